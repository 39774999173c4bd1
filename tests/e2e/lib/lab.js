// The local lab (tests/, binary keyless-lab) as the tests see it: `up` in a private state dir,
// its env file and lab.json, GET /_lab/state, `fault …`, `down`. Always via execFile, never a shell.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { LAB_BIN, freshDir } from './paths.js';
import { onExit } from './cleanup.js';

const run = promisify(execFile);

/** Parses `export K='V'` lines (POSIX single-quoted, '\'' for a quote) into an object. */
export function parseEnvFile(text) {
  const env = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (!m) throw new Error(`unparsable env line: ${line}`);
    let value = '';
    const rest = m[2];
    for (let i = 0; i < rest.length;) {
      if (rest[i] === "'") {
        const end = rest.indexOf("'", i + 1);
        if (end < 0) throw new Error(`unterminated quote in: ${line}`);
        value += rest.slice(i + 1, end);
        i = end + 1;
      } else if (rest[i] === '\\' && i + 1 < rest.length) {
        value += rest[i + 1];
        i += 2;
      } else if (rest[i] === '"') {
        const end = rest.indexOf('"', i + 1);
        if (end < 0) throw new Error(`unterminated quote in: ${line}`);
        value += rest.slice(i + 1, end);
        i = end + 1;
      } else {
        value += rest[i];
        i += 1;
      }
    }
    env[m[1]] = value;
  }
  return env;
}

export class Lab {
  constructor(dir, record, env) {
    this.dir = dir;
    this.record = record;
    this.env = env;
    this.endpoint = record.endpoint;
    this.osUser = record.os_user;
    this.sshPort = record.ssh_port;
    this.stopped = false;
  }

  /** `keyless-lab up` in a fresh state dir; resolves once the lab answers. */
  static async up({ instances = 0, regions = null, eicLatencyMs = null } = {}) {
    const dir = freshDir('lab');
    const args = ['up', '--state-dir', dir];
    if (instances) args.push('--instances', String(instances));
    if (regions) args.push('--regions', regions.join(','));
    if (eicLatencyMs != null) args.push('--eic-latency-ms', String(eicLatencyMs));
    // Registered before `up` so an interrupted start still gets its `down`.
    const unregister = onExit(() => Lab.downSync(dir));
    try {
      await run(LAB_BIN, args, { timeout: 120_000, maxBuffer: 64 << 20 });
    } catch (e) {
      unregister();
      await run(LAB_BIN, ['down', '--state-dir', dir]).catch(() => {});
      throw new Error(`keyless-lab up failed: ${e.stderr || e.message}`);
    }
    const record = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8'));
    const env = parseEnvFile(readFileSync(record.env_file ?? join(dir, 'env'), 'utf8'));
    const lab = new Lab(dir, record, env);
    lab.unregister = unregister;
    return lab;
  }

  /** The instances, as GET /_lab/state reports them now: the main account's, or `account`'s
   *  (an account id, or 'all'). */
  async state(account = null) {
    const query = account ? `?account=${encodeURIComponent(account)}` : '';
    const res = await fetch(`${this.endpoint}/_lab/state${query}`);
    if (!res.ok) throw new Error(`GET /_lab/state: HTTP ${res.status}`);
    return res.json();
  }

  /** The one instance with this Name, in any account (throws when not exactly one). */
  async named(name) {
    const all = (await this.state('all')).filter((i) => i.name === name);
    if (all.length !== 1) throw new Error(`${all.length} lab instances named ${JSON.stringify(name)}`);
    return all[0];
  }

  async byId(id) {
    const i = (await this.state('all')).find((x) => x.id === id);
    if (!i) throw new Error(`no lab instance ${id}`);
    return i;
  }

  /** `keyless-lab fault <args…>` on this lab. */
  async fault(...args) {
    try {
      const { stdout } = await run(LAB_BIN, ['fault', ...args.map(String), '--state-dir', this.dir], { timeout: 60_000 });
      return stdout;
    } catch (e) {
      throw new Error(`keyless-lab fault ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  }

  async down({ keepDir = false } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await run(LAB_BIN, ['down', '--state-dir', this.dir], { timeout: 60_000 });
    } finally {
      this.unregister?.();
      if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
    }
  }

  static downSync(dir) {
    try {
      execFileSync(LAB_BIN, ['down', '--state-dir', dir], { stdio: 'ignore', timeout: 30_000 });
    } catch { /* best effort at exit */ }
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* idem */ }
  }
}
