/** Window math for a fixed-row-height virtual list: which rows to render and where. */
export type WindowInput = {
  scrollTop: number;
  viewportHeight: number;
  rowHeight: number;
  count: number;
  /** Extra rows rendered above and below the viewport. */
  overscan?: number;
};

export type RowWindow = {
  /** First rendered row (inclusive). */
  start: number;
  /** One past the last rendered row. */
  end: number;
  /** translateY of the first rendered row. */
  offsetY: number;
  /** Height of the whole (virtual) list. */
  totalHeight: number;
};

export function computeWindow({ scrollTop, viewportHeight, rowHeight, count, overscan = 8 }: WindowInput): RowWindow {
  const totalHeight = Math.max(0, count * rowHeight);
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, offsetY: 0, totalHeight };
  const maxScroll = Math.max(0, totalHeight - viewportHeight);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil((top + Math.max(0, viewportHeight)) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, Math.max(visible, first + 1) + overscan);
  return { start, end, offsetY: start * rowHeight, totalHeight };
}

/** The scrollTop that brings row `index` fully into view, or null if it already is. */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number | null {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return null;
}

/** Rows per page for PageUp/PageDown. */
export function pageSize(viewportHeight: number, rowHeight: number): number {
  return Math.max(1, Math.floor(viewportHeight / rowHeight) - 1);
}

/** Keyboard navigation of the selection: returns the new index (clamped), or -1 for an empty list. */
export function moveSelection(
  current: number, key: 'ArrowUp' | 'ArrowDown' | 'Home' | 'End' | 'PageUp' | 'PageDown',
  count: number, page: number,
): number {
  if (count <= 0) return -1;
  const clamp = (i: number) => Math.min(count - 1, Math.max(0, i));
  if (current < 0) return key === 'End' || key === 'ArrowUp' ? count - 1 : 0;
  switch (key) {
    case 'ArrowUp': return clamp(current - 1);
    case 'ArrowDown': return clamp(current + 1);
    case 'Home': return 0;
    case 'End': return count - 1;
    case 'PageUp': return clamp(current - page);
    case 'PageDown': return clamp(current + page);
  }
}
