// The small popovers (region picker, AWS profile picker, identity details): where they open and
// when a click elsewhere closes them.

/** A popover `width` px wide opening above `trigger` (the status bar), kept inside the window. */
export function above(trigger: HTMLElement, width: number): { left: number; bottom: number } {
  const r = trigger.getBoundingClientRect();
  return { left: Math.max(8, Math.min(r.left, window.innerWidth - width - 8)), bottom: window.innerHeight - r.top + 6 };
}

/** Calls `close` when the mouse goes down outside all of `inside` (capture phase, so before the
 *  target reacts). Returns the remover: an $effect's cleanup. */
export function onPressOutside(inside: () => Array<Node | null | undefined>, close: () => void): () => void {
  const onDown = (e: MouseEvent) => {
    const t = e.target as Node;
    if (!inside().some((n) => n?.contains(t))) close();
  };
  window.addEventListener('mousedown', onDown, true);
  return () => window.removeEventListener('mousedown', onDown, true);
}
