// User Timing marks for the cold start (the bench reads them with the navigation timing to say
// where a start's time goes). Each is set once per page load; later calls are no-ops.
export type StartupMark = 'ui-script' | 'ui-mounted' | 'first-row';

export function markOnce(name: StartupMark): void {
  if (performance.getEntriesByName(name, 'mark').length === 0) performance.mark(name);
}
