import { WRITE_PIECE } from './flowControl';
import type { AppState } from './store.svelte';

export type KeylessTestHook = {
  /**
   * The xterm buffer of the active tab (or tab `index`, same numbering as tabs()) as text: all of
   * it, or its last `lastRows` rows (polling the whole 10,000-row buffer during a flood slows it).
   */
  terminalText(index?: number, lastRows?: number): string;
  /** All tabs, the Instances tab first ({title: 'Instances', status: 'home'}). */
  tabs(): Array<{ title: string; status: string }>;
  /** Index of the active tab in tabs() (0 = Instances). */
  activeTab(): number;
  /** From now on, count the session bytes tab `index`'s xterm parses: all, and those equal to `byte`. */
  countBytes(index: number, byte: number): void;
  /** What countBytes has counted in tab `index` so far. */
  countedBytes(index: number): { total: number; matching: number };
  /**
   * Writes `total` bytes of "x" straight into tab `index`'s xterm (no SSH, no IPC), in pieces the
   * size the page writes session output in, at most ~1 MiB queued; resolves with the milliseconds
   * until xterm has parsed the last. The bench's baseline: no session can reach xterm faster.
   */
  writeLocally(index: number, total: number, chunk?: number): Promise<number>;
  /** Tab `index`'s terminal size and scrollback (the bench floods xterm.js alone alike). */
  terminalSize(index: number): { cols: number; rows: number; scrollback: number };
};

declare global {
  interface Window { __keyless?: KeylessTestHook }
}

/** Installed only when app_info.e2e is true: end-to-end tests read the terminal through it. */
export function installTestHook(app: AppState): void {
  const counts = new Map<number, { total: number; matching: number }>();
  const termOf = (index: number) => (index >= 1 ? app.tabs[index - 1]?.term : undefined) ?? null;
  window.__keyless = {
    terminalText(index?: number, lastRows?: number): string {
      const i = index ?? app.activeIndex;
      const tab = i >= 1 ? app.tabs[i - 1] : undefined;
      return tab?.term?.text(lastRows) ?? '';
    },
    tabs() {
      return [{ title: 'Instances', status: 'home' }, ...app.tabs.map((t) => ({ title: t.title, status: t.status }))];
    },
    activeTab() {
      return app.activeIndex;
    },
    countBytes(index: number, byte: number) {
      const term = termOf(index);
      if (!term) throw new Error(`no terminal in tab ${index}`);
      const c = { total: 0, matching: 0 };
      counts.set(index, c);
      term.onParsed = (bytes) => {
        c.total += bytes.byteLength;
        for (let i = 0; i < bytes.byteLength; i++) if (bytes[i] === byte) c.matching++;
      };
    },
    countedBytes(index: number) {
      const c = counts.get(index);
      if (!c) throw new Error(`countBytes(${index}) was not called`);
      return { ...c };
    },
    async writeLocally(index: number, total: number, chunk = WRITE_PIECE) {
      const term = termOf(index);
      if (!term) throw new Error(`no terminal in tab ${index}`);
      const bytes = new Uint8Array(chunk).fill(0x78);
      // At most ~1 MiB queued, about what flow control lets the page hold (xterm drops past 50 MB).
      const inFlight = Math.max(1, Math.floor((1024 * 1024) / chunk));
      const queued: Promise<void>[] = [];
      const t0 = performance.now();
      for (let n = 0; n < total; n += chunk) {
        queued.push(term.writeLocal(n + chunk <= total ? bytes : bytes.subarray(0, total - n)));
        if (queued.length >= inFlight) await queued.shift();
      }
      await Promise.all(queued);
      return performance.now() - t0;
    },
    terminalSize(index: number) {
      const term = termOf(index);
      if (!term) throw new Error(`no terminal in tab ${index}`);
      return { cols: term.term.cols, rows: term.term.rows, scrollback: term.term.options.scrollback ?? 1000 };
    },
  };
}
