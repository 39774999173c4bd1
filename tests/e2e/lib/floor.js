// The floor the app is measured against, in the same run (tests/e2e/floor.py): a WebKitGTK web
// view with no Keyless code — empty, for memory and start time, or with xterm.js alone, for what
// xterm.js itself keeps after the bench's floods. Same compositing as the app chooses.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

import { App } from './app.js';
import { E2E_DIR, REPO } from './paths.js';
import { descendants, killTree, pssBytes, rssBytes } from './procs.js';
import { waitFor } from './ui.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** {comm, rss, pss} per process of the floor's tree, and the sums. */
function memoryOf(pid) {
  const procs = [{ pid, comm: 'floor:python3' }, ...descendants(pid)]
    .map((p) => ({ comm: p.comm, rss: rssBytes(p.pid), pss: pssBytes(p.pid) }));
  return { procs, rss: procs.reduce((a, p) => a + p.rss, 0), pss: procs.reduce((a, p) => a + p.pss, 0) };
}

/** Starts floor.py; resolves once its first frame is painted, with {child, startMs, next(word)}. */
async function start(args, software) {
  const env = { ...process.env };
  if (software) env.WEBKIT_DISABLE_COMPOSITING_MODE = '1';
  // floor.py runs on the system's Python (its #!): PyGObject and WebKit's typelib come from apt.
  const child = spawn(join(E2E_DIR, 'floor.py'), args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => {
    const i = waiting.findIndex((w) => line.startsWith(`${w.word} `));
    if (i >= 0) waiting.splice(i, 1)[0].resolve(line.split(' ').slice(1).map(Number));
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`floor.py exited (${code}) before "${w.word}"`));
  });
  /** The numbers of floor.py's next line starting with `word`. */
  const next = (word, timeoutMs) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`floor.py: no "${word}" within ${timeoutMs / 1000} s`)), timeoutMs);
    waiting.push({
      word,
      resolve: (v) => { clearTimeout(timer); resolve(v); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    });
  });
  try {
    const [startMs] = await next('ready', 30_000);
    return { child, startMs, next };
  } catch (e) {
    await killTree(child.pid);
    throw e;
  }
}

/**
 * The empty web view, started `launches` times: memory once loaded and settled (first launch),
 * and each launch's milliseconds from the process starting to its first frame.
 */
export async function emptyFloor({ software, launches }) {
  const starts = [];
  let memory = null;
  for (let i = 0; i < launches; i++) {
    const floor = await start([], software);
    try {
      starts.push(floor.startMs);
      if (!memory) { await sleep(3000); memory = memoryOf(floor.child.pid); }
    } finally {
      await killTree(floor.child.pid);
    }
  }
  return { ...memory, starts };
}

/**
 * The empty web view launched `launches` times through tauri-driver and WebKitWebDriver, as the
 * bench launches the app: milliseconds from asking for the session to its text being visible.
 */
export async function drivenFloorStarts({ software, launches }) {
  const starts = [];
  for (let i = 0; i < launches; i++) {
    const extraEnv = software ? { WEBKIT_DISABLE_COMPOSITING_MODE: '1' } : {};
    const floor = await App.launch({ name: 'floor', application: join(E2E_DIR, 'floor.py'), extraEnv });
    try {
      const visible = () => floor.browser.execute(() => [...document.querySelectorAll('p')].some((p) => p.getClientRects().length > 0));
      await waitFor(floor.browser, visible, { timeout: 60_000, interval: 10, what: 'the floor page' });
      starts.push(performance.now() - floor.launchedAt);
    } finally {
      await floor.close();
    }
  }
  return starts;
}

/**
 * xterm.js alone (the app's npm copy, the app's scrollback, the bench tab's size) flooded twice
 * with `bytes` of "x", as the bench floods the app's tab: RSS before and 5 s after.
 */
export async function xtermFloor({ software, bytes, cols, rows, scrollback }) {
  const xterm = join(REPO, 'ui', 'node_modules', '@xterm', 'xterm');
  const floor = await start(['--xterm', xterm, '--cols', String(cols), '--rows', String(rows), '--scrollback', String(scrollback)], software);
  try {
    await sleep(3000);
    const before = memoryOf(floor.child.pid);
    floor.child.stdin.write(`flood ${bytes}\n`);
    const ms = await floor.next('flooded', 300_000);
    await sleep(5000); // as the bench lets the app settle
    const after = memoryOf(floor.child.pid);
    return { before, after, mbps: ms.map((m) => bytes / 1e6 / (m / 1000)) };
  } finally {
    await killTree(floor.child.pid);
  }
}
