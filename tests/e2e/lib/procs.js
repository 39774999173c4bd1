// Process bookkeeping from /proc: descendants of a pid (ppid chain), killing a tree we started
// (by pid, never by name) and resident memory. Linux only, like the app's test target.
import { readFileSync, readdirSync } from 'node:fs';

/**
 * A /proc/…/stat line, "pid (comm) state ppid …": comm may hold spaces and parentheses, so it
 * splits at the last ')'. `fields[0]` is the state (proc(5)'s field 3).
 */
export function parseStat(stat) {
  const close = stat.lastIndexOf(')');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}

/** {pid, ppid, comm} of every process, or [] when /proc is unreadable. */
export function allProcs() {
  const out = [];
  let entries = [];
  try { entries = readdirSync('/proc'); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const { comm, fields } = parseStat(readFileSync(`/proc/${e}/stat`, 'utf8'));
      out.push({ pid: Number(e), ppid: Number(fields[1]), comm, state: fields[0] });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/** Every descendant of pid (children first-level before grandchildren). */
export function descendants(pid) {
  const procs = allProcs();
  const kids = new Map();
  for (const p of procs) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(p);
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const cur = queue.shift();
    for (const k of kids.get(cur) ?? []) { out.push(k); queue.push(k.pid); }
  }
  return out;
}

export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie is dead for our purposes
  } catch { return false; }
}

function signal(pid, sig) {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/**
 * SIGTERM pid and all its descendants (collected before anything dies, so reparented
 * grandchildren are not lost), then SIGKILL whatever is left after graceMs.
 */
export async function killTree(pid, graceMs = 3000) {
  if (!pid) return;
  const tree = [...descendants(pid).map((p) => p.pid), pid];
  for (const p of tree) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 50));
  for (const p of tree) if (alive(p)) signal(p, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (Date.now() < hard && tree.some(alive)) await new Promise((r) => setTimeout(r, 50));
}

/**
 * When pid started, in epoch milliseconds (10 ms steps: the kernel counts in clock ticks since
 * boot; 100 a second on Linux, which is what userspace sees as CLK_TCK).
 */
export function startedAtMs(pid) {
  const ticks = Number(parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).fields[19]);
  // Boot time from /proc/uptime (10 ms steps), not /proc/stat's btime (whole seconds).
  const bootedAt = Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  return bootedAt + ticks * 10;
}

/** Pids whose environment has exactly `name=value` (e.g. the private HOME of one app run). */
export function withEnv(name, value) {
  const want = `${name}=${value}`;
  return allProcs().map((p) => p.pid).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(want); } catch { return false; }
  });
}

/** SIGKILLs `pids` and waits (bounded) until they are gone. */
export async function killAll(pids, waitMs = 5000) {
  for (const p of pids) signal(p, 'SIGKILL');
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL the tree. */
export function killTreeSync(pid) {
  if (!pid) return;
  const tree = [...descendants(pid).map((p) => p.pid), pid];
  for (const p of tree) signal(p, 'SIGKILL');
}

/** Resident set size in bytes (VmRSS) of one process, 0 when gone. */
export function rssBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

/** Proportional set size in bytes (Pss from smaps_rollup): shared pages split between users. */
export function pssBytes(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const m = s.match(/^Pss:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}
