/** App-wide keyboard shortcuts, as data (the caller decides which apply where). */
export type Action =
  | { type: 'close-tab' } | { type: 'next-tab' } | { type: 'prev-tab' } | { type: 'goto-tab'; index: number }
  | { type: 'last-tab' } | { type: 'home' } | { type: 'refresh' } | { type: 'focus-search' }
  | { type: 'find' } | { type: 'copy' } | { type: 'paste' }
  | { type: 'zoom-in' } | { type: 'zoom-out' } | { type: 'zoom-reset' }
  | { type: 'files' };

export type KeyLike = Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'shiftKey' | 'altKey' | 'metaKey'>;

/** Terminal-scoped actions: only when a session tab is active. */
export const TERMINAL_ACTIONS: ReadonlySet<Action['type']> = new Set(['find', 'copy', 'paste', 'zoom-in', 'zoom-out', 'zoom-reset', 'files']);
/** Actions only on the instances tab (Ctrl+R / Ctrl+F belong to the shell in a terminal). */
export const HOME_ACTIONS: ReadonlySet<Action['type']> = new Set(['refresh', 'focus-search']);

/** A text field (or select) has the keyboard: plain keys and Ctrl+Z belong to it, not to the app.
 *  xterm's input is a textarea, so the terminal counts too. */
export function isEditable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

export function matchShortcut(e: KeyLike, mac = false): Action | null {
  const mod = e.ctrlKey || (mac && e.metaKey);
  if (e.key === 'F5' && !mod && !e.altKey) return { type: 'refresh' };
  if (!mod || e.altKey) return null;
  const letter = /^Key([A-Z])$/.exec(e.code)?.[1] ?? (e.key.length === 1 ? e.key.toUpperCase() : '');
  if (e.key === 'Tab' || e.code === 'Tab') return e.shiftKey ? { type: 'prev-tab' } : { type: 'next-tab' };
  if (e.key === 'PageDown') return { type: 'next-tab' };
  if (e.key === 'PageUp') return { type: 'prev-tab' };
  if (e.shiftKey) {
    switch (letter) {
      case 'W': return { type: 'close-tab' };
      case 'T': case 'I': return { type: 'home' };
      case 'F': return { type: 'find' };
      case 'C': return { type: 'copy' };
      case 'V': return { type: 'paste' };
      case 'E': return { type: 'files' };
    }
    if (e.key === '+' || e.code === 'Equal') return { type: 'zoom-in' };
    if (e.key === '_' || e.code === 'Minus') return { type: 'zoom-out' };
    return null;
  }
  const digit = /^Digit([1-9])$/.exec(e.code)?.[1] ?? (/^[1-9]$/.test(e.key) ? e.key : null);
  if (digit) return digit === '9' ? { type: 'last-tab' } : { type: 'goto-tab', index: Number(digit) - 1 };
  if (e.key === '=' || e.key === '+' || e.code === 'Equal' || e.code === 'NumpadAdd') return { type: 'zoom-in' };
  if (e.key === '-' || e.code === 'Minus' || e.code === 'NumpadSubtract') return { type: 'zoom-out' };
  if (e.key === '0' || e.code === 'Digit0' || e.code === 'Numpad0') return { type: 'zoom-reset' };
  if (letter === 'R') return { type: 'refresh' };
  if (letter === 'F') return { type: 'focus-search' };
  return null;
}
