import { describe, expect, it } from 'vitest';
import { computeWindow, moveSelection, pageSize, scrollToReveal } from './virtualList';

describe('computeWindow', () => {
  it('renders only the visible rows plus overscan', () => {
    const w = computeWindow({ scrollTop: 0, viewportHeight: 340, rowHeight: 34, count: 10_000, overscan: 5 });
    expect(w).toEqual({ start: 0, end: 15, offsetY: 0, totalHeight: 340_000 });
  });

  it('scrolled into the middle', () => {
    const w = computeWindow({ scrollTop: 34 * 5000 + 10, viewportHeight: 340, rowHeight: 34, count: 10_000, overscan: 5 });
    expect(w.start).toBe(4995);
    expect(w.end).toBe(5011 + 5);
    expect(w.offsetY).toBe(4995 * 34);
    expect(w.end - w.start).toBeLessThan(30);
  });

  it('clamps past the end (overscroll) and before the start', () => {
    const end = computeWindow({ scrollTop: 1e9, viewportHeight: 340, rowHeight: 34, count: 100, overscan: 2 });
    expect(end.end).toBe(100);
    expect(end.start).toBe(100 - 10 - 2);
    const neg = computeWindow({ scrollTop: -50, viewportHeight: 340, rowHeight: 34, count: 100, overscan: 2 });
    expect(neg.start).toBe(0);
  });

  it('handles empty lists, fewer rows than the viewport, and zero height', () => {
    expect(computeWindow({ scrollTop: 0, viewportHeight: 500, rowHeight: 34, count: 0 })).toEqual({ start: 0, end: 0, offsetY: 0, totalHeight: 0 });
    expect(computeWindow({ scrollTop: 0, viewportHeight: 500, rowHeight: 34, count: 3 }).end).toBe(3);
    expect(computeWindow({ scrollTop: 0, viewportHeight: 0, rowHeight: 34, count: 50, overscan: 0 }).end).toBe(1);
  });
});

describe('selection and scrolling', () => {
  it('reveals rows above and below, nothing when visible', () => {
    expect(scrollToReveal(0, 100, 340, 34)).toBe(0);
    expect(scrollToReveal(20, 0, 340, 34)).toBe(21 * 34 - 340);
    expect(scrollToReveal(3, 0, 340, 34)).toBeNull();
  });

  it('moves with arrows, pages, Home/End, clamped', () => {
    expect(moveSelection(5, 'ArrowDown', 10, 4)).toBe(6);
    expect(moveSelection(9, 'ArrowDown', 10, 4)).toBe(9);
    expect(moveSelection(0, 'ArrowUp', 10, 4)).toBe(0);
    expect(moveSelection(5, 'PageDown', 10, 4)).toBe(9);
    expect(moveSelection(5, 'PageUp', 10, 4)).toBe(1);
    expect(moveSelection(5, 'Home', 10, 4)).toBe(0);
    expect(moveSelection(5, 'End', 10, 4)).toBe(9);
    expect(moveSelection(-1, 'ArrowDown', 10, 4)).toBe(0);
    expect(moveSelection(-1, 'End', 10, 4)).toBe(9);
    expect(moveSelection(3, 'ArrowDown', 0, 4)).toBe(-1);
    expect(pageSize(340, 34)).toBe(9);
    expect(pageSize(10, 34)).toBe(1);
  });
});
