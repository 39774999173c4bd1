import { describe, expect, it, vi } from 'vitest';
import { FramePacer, type FrameWindow } from './framePacing';

/** A window whose animation frames come only when the test says, at the time it gives. */
class FakeWindow implements FrameWindow {
  private next = 1;
  frames = new Map<number, FrameRequestCallback>();
  requestAnimationFrame(cb: FrameRequestCallback): number {
    const id = this.next++;
    this.frames.set(id, cb);
    return id;
  }
  cancelAnimationFrame(id: number): void {
    this.frames.delete(id);
  }
  frame(ts: number): void {
    const due = [...this.frames.values()];
    this.frames.clear();
    for (const cb of due) cb(ts);
  }
}

function setup() {
  const win = new FakeWindow();
  const pacer = new FramePacer(win, 33);
  const ran: Array<[string, number]> = [];
  const ask = (name: string) => win.requestAnimationFrame((ts) => ran.push([name, ts]));
  return { win, pacer, ran, ask };
}

describe('FramePacer', () => {
  it('leaves frames to the browser while nothing floods', () => {
    const { win, ran, ask } = setup();
    ask('a');
    win.frame(16);
    ask('b');
    win.frame(32);
    expect(ran).toEqual([['a', 16], ['b', 32]]);
  });

  it('runs callbacks at most once per gap while a terminal floods, all together', () => {
    const { win, pacer, ran, ask } = setup();
    pacer.flooding(true);
    ask('a');
    win.frame(100);
    expect(ran).toEqual([['a', 100]]);
    ask('b');
    win.frame(116);
    ask('c');
    win.frame(124);
    expect(ran.length).toBe(1); // within 33 ms of the last run: held
    win.frame(133);
    expect(ran).toEqual([['a', 100], ['b', 133], ['c', 133]]);
  });

  it("cancels held callbacks and the browser's own alike", () => {
    const { win, pacer, ran, ask } = setup();
    const own = ask('own');
    win.cancelAnimationFrame(own);
    pacer.flooding(true);
    const held = ask('held');
    ask('kept');
    win.cancelAnimationFrame(held);
    win.frame(50);
    expect(ran).toEqual([['kept', 50]]);
  });

  it('paces while any terminal floods, and lets held callbacks run at the next frame once all stop', () => {
    const { win, pacer, ran, ask } = setup();
    pacer.flooding(true);
    pacer.flooding(true);
    ask('a');
    win.frame(100);
    pacer.flooding(false);
    ask('b');
    win.frame(110);
    expect(ran.map(([n]) => n)).toEqual(['a']); // one still floods
    pacer.flooding(false);
    win.frame(120);
    expect(ran).toEqual([['a', 100], ['b', 120]]);
    ask('c');
    win.frame(125);
    expect(ran.at(-1)).toEqual(['c', 125]);
  });

  it('runs the other callbacks of a frame when one throws, and rethrows it on its own', () => {
    const { win, pacer, ran, ask } = setup();
    const rethrown: Array<() => void> = [];
    vi.stubGlobal('queueMicrotask', (task: () => void) => rethrown.push(task));
    try {
      pacer.flooding(true);
      win.requestAnimationFrame(() => { throw new Error('boom'); });
      ask('after');
      win.frame(10);
      expect(ran).toEqual([['after', 10]]);
      expect(rethrown.length).toBe(1);
      expect(() => rethrown[0]!()).toThrow('boom');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
