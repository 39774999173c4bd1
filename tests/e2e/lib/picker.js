// The app's native file pickers (GTK file choosers the backend opens through tauri-plugin-dialog),
// driven as a user would: wait for the dialog's X window, give it the keyboard, type a path into
// its location field, press Return. xdotool runs by execFile, never a shell; no test-only bypass.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function xdotool(args, timeout = 10_000) {
  try {
    const { stdout } = await run('xdotool', args.map(String), { timeout });
    return stdout;
  } catch (e) {
    // `search` exits 1 when nothing matches: that is an answer, not a failure.
    if (args[0] === 'search' && e.code === 1) return '';
    throw new Error(`xdotool ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** Visible X windows whose title matches `title` (a regex source), by id. */
export async function windowsNamed(title) {
  return (await xdotool(['search', '--onlyvisible', '--name', title])).split('\n').filter(Boolean);
}

/** Waits for exactly one visible window titled `title`; its X id. */
export async function waitForWindow(title, { timeout = 15_000 } = {}) {
  const deadline = Date.now() + timeout;
  let ids = [];
  while (Date.now() < deadline) {
    ids = await windowsNamed(title);
    if (ids.length === 1) return ids[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no single visible window titled /${title}/ within ${timeout} ms (found ${ids.length})`);
}

/** Waits until no visible window is titled `title` (the dialog closed). */
export async function waitForNoWindow(title, { timeout = 15_000 } = {}) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if ((await windowsNamed(title)).length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the window titled /${title}/ is still open after ${timeout} ms`);
}

/**
 * Answers the file chooser titled `title` with `path`: the keyboard to it (Xvfb has no window
 * manager to give it), Ctrl+L for the location field, the absolute path typed, Return.
 */
export async function choosePath(title, path) {
  const id = await waitForWindow(title);
  await xdotool(['windowfocus', '--sync', id]);
  await xdotool(['key', '--clearmodifiers', 'ctrl+l']);
  await xdotool(['type', '--delay', 15, '--clearmodifiers', path], 60_000);
  // The location field's completion may take the first Return (it completes the name), and in
  // a folder chooser Return enters the folder: then the dialog's own button (mnemonic Alt+S,
  // "Select"; Alt+O, "Open") accepts. Each key only while the dialog is still there.
  const keys = ['Return', 'Return', 'alt+s', 'alt+o'];
  for (const [i, key] of keys.entries()) {
    await xdotool(['key', '--clearmodifiers', key]);
    try {
      await waitForNoWindow(title, { timeout: i < keys.length - 1 ? 2_000 : 15_000 });
      return;
    } catch (e) {
      if (i === keys.length - 1) throw e;
    }
  }
}
