import type { AppState } from './store.svelte';

export type KeylessTestHook = {
  /** The full xterm buffer of the active tab (or tab `index`, same numbering as tabs()) as text. */
  terminalText(index?: number): string;
  /** All tabs, the Instances tab first ({title: 'Instances', status: 'home'}). */
  tabs(): Array<{ title: string; status: string }>;
  /** Index of the active tab in tabs() (0 = Instances). */
  activeTab(): number;
};

declare global {
  interface Window { __keyless?: KeylessTestHook }
}

/** Installed only when app_info.e2e is true: end-to-end tests read the terminal through it. */
export function installTestHook(app: AppState): void {
  window.__keyless = {
    terminalText(index?: number): string {
      const i = index ?? app.activeIndex;
      const tab = i >= 1 ? app.tabs[i - 1] : undefined;
      return tab?.term?.text() ?? '';
    },
    tabs() {
      return [{ title: 'Instances', status: 'home' }, ...app.tabs.map((t) => ({ title: t.title, status: t.status }))];
    },
    activeTab() {
      return app.activeIndex;
    },
  };
}
