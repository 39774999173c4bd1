// Figures (not assertions) for the desktop app against the local lab: cold start to the
// instance list, resident memory idle and with 5 sessions, terminal throughput of a 100 MB
// flood through SSH → backend → IPC → xterm, and UI responsiveness during it.
// Run through scripts/bench-app.sh (builds, then runs this under Xvfb).
import { App } from './lib/app.js';
import { Lab } from './lib/lab.js';
import { connect, typeLine } from './lib/session.js';
import { rssBytes, pssBytes } from './lib/procs.js';
import { hookTabs, sel, waitFor, waitForApp } from './lib/ui.js';

const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 5);
const EXTRA = Number(process.env.BENCH_INSTANCES ?? 1000);
const FLOOD_BYTES = Number(process.env.BENCH_FLOOD_BYTES ?? 100_000_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const MB = (b) => b / (1024 * 1024);

function memory(app) {
  const tree = app.appTree();
  const rss = tree.reduce((a, p) => a + rssBytes(p.pid), 0);
  const pss = tree.reduce((a, p) => a + pssBytes(p.pid), 0);
  return { rss, pss, procs: tree.map((p) => `${p.comm}:${Math.round(MB(rssBytes(p.pid)))}M`).join(' ') };
}

async function firstRowVisible(browser) {
  return browser.execute((s) => [...document.querySelectorAll(s)].some((r) => r.getClientRects().length > 0), sel('instance-row'));
}

async function main() {
  const results = {};
  console.error(`bench: lab with ${EXTRA} extra instances`);
  const lab = await Lab.up({ instances: EXTRA });
  let app;
  try {
    // 1. Cold start: remote() (launches the app) → first instance-row visible.
    const starts = [];
    for (let i = 0; i < LAUNCHES; i++) {
      app = await App.launch({ lab, name: `bench${i}` });
      await waitFor(app.browser, () => firstRowVisible(app.browser), { timeout: 60_000, interval: 20, what: 'first instance row' });
      const ms = performance.now() - app.launchedAt;
      starts.push(ms);
      console.error(`bench: launch ${i + 1}: ${Math.round(ms)} ms (session open after ${Math.round(app.sessionAt - app.launchedAt)} ms)`);
      if (i < LAUNCHES - 1) { await app.close(); app = null; }
    }
    results.start = starts;

    // 2. Memory, idle (list of 1,000+ rendered, settled).
    const { browser } = app;
    await waitForApp(browser);
    await sleep(3000);
    results.idle = memory(app);

    // 3. Five sessions.
    const state = await lab.state();
    const targets = state.filter((i) => i.state === 'running' && i.region === 'us-east-1'
      && !['restricted', 'no-imds'].includes(i.name)).slice(0, 5);
    if (targets.length < 5) throw new Error(`only ${targets.length} connectable instances`);
    const tabs = [];
    for (const t of targets) tabs.push((await connect(browser, { instanceId: t.id, user: lab.osUser })).index);
    await sleep(3000);
    results.five = memory(app);

    // 4. Throughput: a flood through the whole path, timed until a trailing marker is in xterm.
    const idx = tabs[0];
    const cmd = `head -c ${FLOOD_BYTES} /dev/zero | tr '\\0' x; echo; echo FLOOD-DONE-$((40+2))`;
    await typeLine(browser, idx, 'clear');
    const ta = await (async () => {
      for (const term of await browser.$$(sel('terminal'))) if (await term.isDisplayed()) return term.$('textarea.xterm-helper-textarea');
      throw new Error('no visible terminal');
    })();
    await ta.addValue(cmd);
    const rtts = [];
    const t0 = performance.now();
    await ta.addValue('\uE007');
    let done = false;
    let timedOut = false;
    const deadline = t0 + 300_000;
    while (!done) {
      const s = performance.now();
      await browser.execute(() => 1);
      rtts.push(performance.now() - s);
      done = await browser.execute((i) => window.__keyless.terminalText(i).includes('FLOOD-DONE-42'), idx);
      if (performance.now() > deadline) { timedOut = true; break; }
      if (!done) await sleep(100);
    }
    const secs = (performance.now() - t0) / 1000;
    results.flood = { secs, mbps: FLOOD_BYTES / 1e6 / secs, timedOut, rtts };
    results.fiveAfterFlood = memory(app);
    results.tabs = await hookTabs(browser);
  } finally {
    await app?.close();
    await lab.down();
  }
  report(results);
}

function report(r) {
  const row = (what, value, target, ok) => console.log(`| ${what.padEnd(52)} | ${String(value).padStart(18)} | ${target.padEnd(12)} | ${ok === null ? '  ' : ok ? 'ok' : 'NO'} |`);
  const profile = process.env.BENCH_PROFILE ?? 'debug';
  console.log(`\nKeyless desktop app — bench (${profile} build, Xvfb, lab with ${EXTRA} extra instances)\n`);
  console.log(`| ${'measure'.padEnd(52)} | ${'figure'.padStart(18)} | ${'target'.padEnd(12)} |    |`);
  console.log(`|${'-'.repeat(54)}|${'-'.repeat(20)}|${'-'.repeat(14)}|----|`);
  const st = median(r.start);
  row(`cold start → first row, median of ${r.start.length}`, `${Math.round(st)} ms`, '—', null);
  row('  (all launches)', r.start.map((x) => Math.round(x)).join('/'), '', null);
  row('RSS idle (app + WebKit processes)', `${MB(r.idle.rss).toFixed(0)} MB`, '≤ 150 MB', MB(r.idle.rss) <= 150);
  row('  PSS idle (shared pages split)', `${MB(r.idle.pss).toFixed(0)} MB`, '', null);
  row('RSS with 5 sessions', `${MB(r.five.rss).toFixed(0)} MB`, '≤ 150 MB', MB(r.five.rss) <= 150);
  row('  PSS with 5 sessions', `${MB(r.five.pss).toFixed(0)} MB`, '', null);
  row('RSS with 5 sessions, after the flood', `${MB(r.fiveAfterFlood.rss).toFixed(0)} MB`, '', null);
  row(`throughput, ${(FLOOD_BYTES / 1e6).toFixed(0)} MB into xterm${r.flood.timedOut ? ' (TIMED OUT)' : ''}`, `${r.flood.mbps.toFixed(1)} MB/s`, '≥ 30 MB/s', !r.flood.timedOut && r.flood.mbps >= 30);
  row('  flood duration', `${r.flood.secs.toFixed(2)} s`, '', null);
  row(`UI round trip during flood, median (n=${r.flood.rtts.length})`, `${median(r.flood.rtts).toFixed(0)} ms`, '—', null);
  row('UI round trip during flood, p95 / max', `${pct(r.flood.rtts, 0.95).toFixed(0)} / ${Math.max(...r.flood.rtts).toFixed(0)} ms`, '—', null);
  console.log(`\nprocesses idle: ${r.idle.procs}\nprocesses with 5 sessions: ${r.five.procs}`);
  console.log(`tabs at the end: ${JSON.stringify(r.tabs)}`);
}

main().catch((e) => { console.error(`bench failed: ${e.stack ?? e}`); process.exitCode = 1; });
