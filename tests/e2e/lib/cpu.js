// Where the CPU went during a stretch of the bench, from /proc: the web process's main thread
// (where xterm.js parses and WebKit lays out), the rest of the app's processes, the lab (its sshd
// and the shell's `head | tr` stand in for the instance, which in real use runs elsewhere) and the
// idle cores. Linux only; clock ticks are 10 ms (CLK_TCK is 100 on Linux).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import { descendants, parseStat } from './procs.js';

const TICK_S = 0.01;

/** utime + stime of one /proc/…/stat (a process or one thread), plus reaped children's when asked. */
function ticks(statPath, withChildren) {
  try {
    const f = parseStat(readFileSync(statPath, 'utf8')).fields;
    // State is 0, so utime is 11, stime 12, cutime 13, cstime 14.
    const own = Number(f[11]) + Number(f[12]);
    return withChildren ? own + Number(f[13]) + Number(f[14]) : own;
  } catch { return 0; } // gone meanwhile
}

/** Idle ticks of all cores (idle + iowait of /proc/stat's "cpu" line). */
function idleTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  return Number(cpu[4]) + Number(cpu[5]);
}

const isWeb = (p) => p.comm.startsWith('WebKitWebProces');

/**
 * A snapshot of CPU ticks so far: `appTree` is the app's processes ({pid, comm}), `labPid` the
 * lab's root (its whole tree is counted, with the children it reaped: `tr` ends with each flood).
 */
export function cpuSnapshot(appTree, labPid) {
  const web = appTree.filter(isWeb);
  const sum = (ps, f) => ps.reduce((a, p) => a + f(p), 0);
  const lab = labPid ? [{ pid: labPid }, ...descendants(labPid)] : [];
  return {
    at: performance.now(),
    webMain: sum(web, (p) => ticks(`/proc/${p.pid}/task/${p.pid}/stat`, false)),
    web: sum(web, (p) => ticks(`/proc/${p.pid}/stat`, false)),
    app: sum(appTree.filter((p) => !isWeb(p)), (p) => ticks(`/proc/${p.pid}/stat`, false)),
    lab: sum(lab, (p) => ticks(`/proc/${p.pid}/stat`, true)),
    idle: idleTicks(),
  };
}

/** Seconds of CPU between two snapshots, by who spent them; `rest` is everyone else (Xvfb, drivers). */
export function cpuSpent(before, after) {
  const s = (k) => (after[k] - before[k]) * TICK_S;
  const wall = (after.at - before.at) / 1000;
  const webMain = s('webMain');
  const webOther = s('web') - webMain;
  const app = s('app');
  const lab = s('lab');
  const idle = s('idle');
  const rest = Math.max(0, wall * availableParallelism() - webMain - webOther - app - lab - idle);
  return { wall, webMain, webOther, app, lab, idle, rest };
}
