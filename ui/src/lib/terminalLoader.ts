// xterm.js and its addons are about 70% of the app's script, and the instance list — the first
// frame — needs none of it. They load as their own chunk: prefetched once the page is idle,
// awaited by the first session view (at once when the prefetch already ran).
import type * as TerminalModule from './terminal';

let loading: Promise<typeof TerminalModule> | null = null;

export function loadTerminal(): Promise<typeof TerminalModule> {
  loading ??= import('./terminal').catch((e: unknown) => {
    loading = null; // a later view tries again
    throw e;
  });
  return loading;
}

/** Loads the terminal chunk when the page has nothing else to do (or after a second at worst). */
export function prefetchTerminal(): void {
  const load = () => void loadTerminal().catch(() => {});
  if (typeof requestIdleCallback === 'function') requestIdleCallback(load, { timeout: 1000 });
  else setTimeout(load, 1000);
}
