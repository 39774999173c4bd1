/**
 * Paint pacing while a terminal floods. xterm.js repaints its screen on every animation frame in
 * which output arrived, and painting the DOM renderer's rows is the page's extra cost per byte
 * under a flood (README, "The flood": with the terminal hidden, a flood costs the page what
 * xterm.js alone does). xterm.js has no paint-rate option and its renderer asks the window for
 * animation frames, so while any terminal floods, the window's animation-frame callbacks run
 * together at most every FLOOD_FRAME_MS; otherwise they are the browser's own, untouched.
 */

/** ~30 frames a second: a flood is read when it stops, not while it scrolls past. */
export const FLOOD_FRAME_MS = 33;

/** The part of the window this replaces (a fake one in the tests). */
export type FrameWindow = {
  requestAnimationFrame(cb: FrameRequestCallback): number;
  cancelAnimationFrame(id: number): void;
};

export class FramePacer {
  private floods = 0;
  /** Callbacks held while flooding, by their (negative) ids; the browser's ids are positive. */
  private held = new Map<number, FrameRequestCallback>();
  private nextId = -1;
  private lastRun = -Infinity;
  private ticking = false;
  private readonly request: (cb: FrameRequestCallback) => number;
  private readonly cancel: (id: number) => void;

  constructor(win: FrameWindow, private readonly gapMs = FLOOD_FRAME_MS) {
    this.request = win.requestAnimationFrame.bind(win);
    this.cancel = win.cancelAnimationFrame.bind(win);
    win.requestAnimationFrame = (cb) => this.requestFrame(cb);
    win.cancelAnimationFrame = (id) => this.cancelFrame(id);
  }

  /** A terminal starts (true) or stops (false) flooding; pacing lasts while any one floods. */
  flooding(on: boolean): void {
    this.floods = Math.max(0, this.floods + (on ? 1 : -1));
  }

  private get paced(): boolean {
    return this.floods > 0;
  }

  private requestFrame(cb: FrameRequestCallback): number {
    if (!this.paced && this.held.size === 0) return this.request(cb);
    const id = this.nextId--;
    this.held.set(id, cb);
    if (!this.ticking) {
      this.ticking = true;
      this.request(this.tick);
    }
    return id;
  }

  private cancelFrame(id: number): void {
    if (id < 0) this.held.delete(id);
    else this.cancel(id);
  }

  private readonly tick = (ts: number): void => {
    if (this.paced && ts - this.lastRun < this.gapMs) {
      this.request(this.tick);
      return;
    }
    this.ticking = false;
    this.lastRun = ts;
    const due = [...this.held.values()];
    this.held.clear();
    for (const cb of due) {
      // One failing callback must not drop the others' frame (the browser runs each on its own).
      try { cb(ts); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
  };
}

let pacer: FramePacer | null = null;

/** The page's one pacer, over the real window (installed on first use). */
export function framePacer(): FramePacer {
  pacer ??= new FramePacer(window);
  return pacer;
}
