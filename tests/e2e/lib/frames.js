// Animation frames the page ran, counted in the page: each frame's callbacks share one timestamp,
// so a frame is a new timestamp. It wraps window.requestAnimationFrame (over the app's own
// pacing, ui/src/lib/framePacing.ts), so it counts the frames xterm.js painted in.

/** From now on, count the page's animation frames (installs the counter once; resets it). */
export async function startCountingFrames(browser) {
  await browser.execute(() => {
    if (!window.__frames) {
      const ask = window.requestAnimationFrame.bind(window);
      const f = (window.__frames = { count: 0, last: -1 });
      window.requestAnimationFrame = (cb) => ask((ts) => {
        if (ts !== f.last) { f.last = ts; f.count++; }
        cb(ts);
      });
    }
    window.__frames.count = 0;
  });
}

/** Frames counted since startCountingFrames. */
export function framesCounted(browser) {
  return browser.execute(() => window.__frames?.count ?? 0);
}
