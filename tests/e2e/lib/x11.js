// A real X11 pointer and clipboard on the tests' Xvfb display (xdotool, xclip). WebKitWebDriver's
// pointer actions never make the page see a `dblclick`, and WebDriver has no clipboard: a user's
// double-click or copy/paste needs the real thing. Both tools run by execFile, never a shell.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

import { onExit } from './cleanup.js';
import { killTree } from './procs.js';
import { waitFor } from './ui.js';
import { appWindowId } from './xshot.js';

const run = promisify(execFile);

async function tool(cmd, args, timeout = 10_000) {
  try {
    const { stdout } = await run(cmd, args.map(String), { timeout });
    return stdout;
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** The app's top-level window (title "Keyless"): {x, y, width, height} on the X screen. */
async function appWindow() {
  const id = await appWindowId();
  const geo = Object.fromEntries((await tool('xdotool', ['getwindowgeometry', '--shell', id]))
    .split('\n').filter((l) => l.includes('=')).map((l) => { const [k, v] = l.split('='); return [k, Number(v)]; }));
  return { x: geo.X, y: geo.Y, width: geo.WIDTH, height: geo.HEIGHT };
}

/**
 * Where the page's client origin lies on the screen: the window's position plus whatever sits
 * above the webview, measured by moving the pointer and asking the page where it arrived.
 */
async function pageOrigin(browser) {
  const win = await appWindow();
  const probe = { x: win.x + Math.floor(win.width / 2), y: win.y + Math.floor(win.height / 2) };
  await tool('xdotool', ['mousemove', '--sync', probe.x - 5, probe.y - 5]);
  await browser.execute(() => {
    window.__pointerProbe = null;
    window.addEventListener('mousemove', (e) => {
      window.__pointerProbe = { x: e.clientX, y: e.clientY, ratio: window.devicePixelRatio };
    }, { once: true, capture: true });
  });
  await tool('xdotool', ['mousemove', '--sync', probe.x, probe.y]);
  const seen = await waitFor(browser, () => browser.execute(() => window.__pointerProbe),
    { timeout: 5_000, what: 'the page to see the X pointer move' });
  return { x: probe.x - seen.x * seen.ratio, y: probe.y - seen.y * seen.ratio, ratio: seen.ratio };
}

/**
 * Moves the X pointer onto the element (at `at` = {fx, fy}, fractions of its box; default the
 * centre) and checks the page agrees it is over that element. Returns the screen point.
 */
export async function pointAt(browser, el, { fx = 0.5, fy = 0.5 } = {}) {
  await el.scrollIntoView({ block: 'center' }).catch(() => {});
  const origin = await pageOrigin(browser);
  const p = await browser.execute((e, a, b) => {
    const r = e.getBoundingClientRect();
    return { x: r.x + r.width * a, y: r.y + r.height * b };
  }, el, fx, fy);
  const screen = { x: Math.round(origin.x + p.x * origin.ratio), y: Math.round(origin.y + p.y * origin.ratio) };
  await tool('xdotool', ['mousemove', '--sync', screen.x, screen.y]);
  const over = await browser.execute((e, x, y) => {
    const hit = document.elementFromPoint(x, y);
    return Boolean(hit && (hit === e || e.contains(hit)));
  }, el, p.x, p.y);
  if (!over) throw new Error(`the X pointer at ${screen.x},${screen.y} is not over the element`);
  return screen;
}

/** A real double-click (two X button presses) on the element. */
export async function doubleClick(browser, el, at) {
  await pointAt(browser, el, at);
  await tool('xdotool', ['click', '--repeat', 2, '--delay', 60, 1]);
}

/** The X clipboard's text now ('' when nobody owns it). */
export async function clipboardText() {
  try {
    const { stdout } = await run('xclip', ['-o', '-selection', 'clipboard'], { timeout: 5_000 });
    return stdout;
  } catch {
    return '';
  }
}

/**
 * Puts `text` on the X clipboard, owned by an xclip of ours in the foreground until release()
 * (X11 clipboard text lives as long as its owner). Resolves once the clipboard reads back `text`.
 */
export async function holdClipboard(browser, text) {
  const p = spawn('xclip', ['-i', '-selection', 'clipboard', '-quiet'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const unregister = onExit(() => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } });
  p.stdin.end(text);
  const release = async () => { unregister(); await killTree(p.pid); };
  try {
    await waitFor(browser, async () => (await clipboardText()) === text, { timeout: 5_000, what: 'xclip to own the clipboard' });
  } catch (e) {
    await release();
    throw e;
  }
  return release;
}
