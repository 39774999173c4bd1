// A realistic fake of the Rust backend for a plain browser (design work, screenshots, unit tests).
// Never imported in the Tauri webview: backend.ts loads it lazily only without __TAURI_INTERNALS__.
//
// URL switches (mockOptionsFromLocation): ?count=10000 (extra filler instances), ?slow=4 (connect
// steps 4× slower), ?fail=credentials (list_instances rejects), ?empty=1, ?lab=1, ?e2e=1,
// ?firstrun=1 (no AWS profile at all: the first-run view, with the demo lab offered).
import type {
  ApiError, AppInfo, ConnectRequest, Fix, Instance, Inventory, SessionEvent, Step, TrustDecision, Via,
} from '../generated/bindings';
import type { Backend, OutputHandler } from './backend';
import { createMockAccounts, MOCK_ACCOUNTS, type MockAccounts } from './mockAccounts';
import { MockPool, type ConnectOutcome } from './mockPool';
import { createMockForwards } from './mockForwards';
import { createMockFiles, type MockFiles } from './mockFiles';
import { createMockSetup, type MockSetup } from './mockSetup';

export type MockOptions = {
  /** Extra generated instances (for scrolling tests). */
  count?: number;
  /** Multiplies connect delays; 0 makes everything immediate (unit tests). */
  slow?: number;
  /** Make list_instances reject with this error kind. */
  fail?: 'credentials' | 'network' | null;
  empty?: boolean;
  lab?: boolean;
  e2e?: boolean;
  /** No AWS profile at all (the first-run view); the demo lab is offered. */
  firstRun?: boolean;
  /** How long a connection without tabs stays open (the backend: 10 min). */
  idleMs?: number;
};

export function mockOptionsFromLocation(): MockOptions {
  if (typeof location === 'undefined') return {};
  const p = new URLSearchParams(location.search);
  const num = (k: string) => (p.has(k) ? Number(p.get(k)) : undefined);
  const fail = p.get('fail');
  return {
    count: num('count'),
    slow: num('slow'),
    fail: fail === 'credentials' || fail === 'network' ? fail : null,
    empty: p.has('empty'),
    lab: p.has('lab'),
    e2e: p.has('e2e'),
    firstRun: p.has('firstrun'),
  };
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function inst(p: Partial<Instance> & { instance_id: string; region: string }): Instance {
  return {
    name: null, state: 'running', availability_zone: `${p.region}a`, private_ip: null,
    public_ip: null, ipv6: null, vpc_id: 'vpc-0a1b2c3d4e5f60718', subnet_id: 'subnet-0f1e2d3c4b5a69788',
    instance_type: 't3.micro', platform: 'Linux/UNIX', launch_time: null, metadata_endpoint: 'enabled',
    tags: p.name != null ? { Name: p.name } : {},
    ...p,
  };
}

function ago(ms: number, now: number): string {
  return new Date(now - ms).toISOString();
}

/** The fixed catalogue: every edge case the UI must handle. */
export function mockInstances(now = Date.now()): Instance[] {
  return [
    inst({ instance_id: 'i-0a1b2c3d4e5f60001', region: 'us-east-1', name: 'web-1', availability_zone: 'us-east-1a',
      private_ip: '10.0.1.12', public_ip: '54.210.33.17', instance_type: 't3.small', launch_time: ago(3 * DAY + 2 * HOUR, now),
      tags: { Name: 'web-1', Env: 'prod', Team: 'web', Role: 'frontend' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60002', region: 'us-east-1', name: 'web-2', availability_zone: 'us-east-1b',
      private_ip: '10.0.2.14', public_ip: '3.91.140.8', instance_type: 't3.small', launch_time: ago(3 * DAY + 2 * HOUR, now),
      tags: { Name: 'web-2', Env: 'prod', Team: 'web', Role: 'frontend' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60003', region: 'us-east-1', name: 'db-primary', availability_zone: 'us-east-1a',
      private_ip: '10.0.1.40', instance_type: 'r6g.large', platform: 'Ubuntu Pro', launch_time: ago(41 * DAY, now),
      tags: { Name: 'db-primary', Env: 'prod', Role: 'db', 'cost-center': 'platform' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60004', region: 'us-east-1', name: 'db-replica', availability_zone: 'us-east-1b',
      private_ip: '10.0.2.41', instance_type: 'r6g.large', platform: 'Ubuntu Pro', launch_time: ago(41 * DAY, now),
      tags: { Name: 'db-replica', Env: 'prod', Role: 'db' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60005', region: 'us-east-1', name: 'bastion', availability_zone: 'us-east-1c',
      private_ip: '10.0.0.5', public_ip: '18.232.77.140', instance_type: 't4g.nano', platform: 'Debian', launch_time: ago(190 * DAY, now),
      tags: { Name: 'bastion', Env: 'shared' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60006', region: 'us-east-1', name: 'batch-worker', state: 'stopped', availability_zone: 'us-east-1a',
      private_ip: '10.0.1.77', instance_type: 'c7i.2xlarge', launch_time: ago(12 * DAY, now),
      tags: { Name: 'batch-worker', Env: 'staging', Team: 'data' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60007', region: 'us-east-1', name: null, availability_zone: 'us-east-1c',
      private_ip: '10.0.3.9', instance_type: 't3.micro', launch_time: ago(25 * 60_000, now),
      tags: { 'aws:autoscaling:groupName': 'asg-workers' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60008', region: 'us-east-1', name: 'staging-api', availability_zone: 'us-east-1b',
      private_ip: '10.0.2.88', public_ip: '44.201.9.63', instance_type: 'm7g.medium', launch_time: ago(6 * HOUR, now),
      tags: { Name: 'staging-api', Env: 'staging', Team: 'api' } }),
    inst({ instance_id: 'i-0a1b2c3d4e5f60009', region: 'us-east-1', name: 'legacy-app', availability_zone: 'us-east-1a',
      private_ip: '10.0.1.200', instance_type: 'm5.large', platform: 'Red Hat Enterprise Linux', launch_time: ago(800 * DAY, now),
      tags: { Name: 'legacy-app', Env: 'prod', Owner: 'ops' } }),
    inst({ instance_id: 'i-0b1c2d3e4f5a60010', region: 'eu-west-1', name: 'Zürich-ñandú-東京', availability_zone: 'eu-west-1a',
      private_ip: '172.31.4.21', public_ip: '34.245.18.90', instance_type: 't3.medium', launch_time: ago(2 * DAY, now),
      tags: { Name: 'Zürich-ñandú-東京', Env: 'prod', Équipe: 'Données' } }),
    inst({ instance_id: 'i-0b1c2d3e4f5a60011', region: 'eu-west-1', name: '', availability_zone: 'eu-west-1b',
      private_ip: '172.31.20.7', instance_type: 't3.micro', launch_time: ago(9 * DAY, now), tags: { Name: '' } }),
    inst({ instance_id: 'i-0b1c2d3e4f5a60012', region: 'eu-west-1', name: 'locked-down', availability_zone: 'eu-west-1c',
      private_ip: '172.31.33.3', instance_type: 't3.micro', launch_time: ago(70 * DAY, now),
      tags: { Name: 'locked-down', Env: 'prod', Compliance: 'pci' } }),
    inst({ instance_id: 'i-0b1c2d3e4f5a60013', region: 'eu-west-1', name: 'no-eic-package', availability_zone: 'eu-west-1a',
      private_ip: '172.31.5.50', instance_type: 't3.small', platform: 'Red Hat Enterprise Linux', launch_time: ago(15 * DAY, now),
      metadata_endpoint: 'disabled', tags: { Name: 'no-eic-package', Env: 'dev' } }),
    inst({ instance_id: 'i-0b1c2d3e4f5a60014', region: 'eu-west-1', name: 'windows-jump', state: 'stopped', availability_zone: 'eu-west-1b',
      private_ip: '172.31.21.30', instance_type: 't3.large', platform: 'Windows', launch_time: ago(300 * DAY, now),
      tags: { Name: 'windows-jump', Env: 'shared' } }),
  ];
}

/** Deterministic filler for scrolling tests. */
export function fillerInstances(count: number, now = Date.now()): Instance[] {
  const states = ['running', 'running', 'running', 'stopped', 'pending', 'stopping'];
  const types = ['t3.micro', 't3.small', 'm7g.large', 'c7i.xlarge', 'r6g.large'];
  const envs = ['prod', 'staging', 'dev'];
  const out: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const region = i % 3 === 0 ? 'eu-west-1' : 'us-east-1';
    const name = `fleet-${envs[i % 3]}-${String(i).padStart(5, '0')}`;
    out.push(inst({
      instance_id: `i-0f${(0x10000000 + i).toString(16).padStart(15, '0')}`,
      region, name, state: states[i % states.length]!,
      availability_zone: `${region}${'abc'[i % 3]}`,
      private_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      public_ip: i % 4 === 0 ? `52.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}` : null,
      instance_type: types[i % types.length]!,
      launch_time: ago((i % 500) * HOUR + i * 1000, now),
      tags: { Name: name, Env: envs[i % 3]!, Shard: String(i % 64) },
    }));
  }
  return out;
}

const REGIONS = [
  'af-south-1', 'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1',
  'ap-southeast-1', 'ap-southeast-2', 'ca-central-1', 'eu-central-1', 'eu-north-1', 'eu-south-1',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'me-south-1', 'sa-east-1', 'us-east-1', 'us-east-2',
  'us-west-1', 'us-west-2',
];

/** Regions whose DescribeInstances fails (the per-region banner). */
const FAILING: Record<string, { code: string; message: string }> = {
  'ap-southeast-2': {
    code: 'UnauthorizedOperation',
    message: 'You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/Admin/alice is not authorized to perform: ec2:DescribeInstances',
  },
  'me-south-1': { code: 'OptInRequired', message: 'You are not subscribed to this service. Please go to http://aws.amazon.com to subscribe.' },
};

const FINGERPRINTS: Record<string, string> = {
  'i-0a1b2c3d4e5f60008': 'SHA256:p8Fz0Q1vH3nE2mYx9rTqK4bW7cJ5dA6sL0uI1oP2eRg',
  'i-0a1b2c3d4e5f60009': 'SHA256:Xk2rM9wq1ZtB8yN4vC6hJ3sD7fG5aL0pQ2eR1uI9oTw',
};

/** A stable, realistic-looking SHA256 fingerprint (43 base64 characters) for an id. */
function fakeFingerprint(id: string): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let h = 2166136261;
  let out = '';
  for (let i = 0; i < 43; i++) {
    h ^= id.charCodeAt(i % id.length) + i * 131;
    h = Math.imul(h, 16777619) >>> 0;
    out += abc[h % 64];
  }
  return `SHA256:${out}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const enc = new TextEncoder();

type MockSession = {
  id: number;
  request: ConnectRequest;
  /** What the request names, looked up as the backend does (null: no such instance). */
  inst: Instance | null;
  /** The saved profile it was opened through (its last_used is set on connect, as in Rust). */
  profile: string | null;
  /** The AWS profile it connects as (part of the pool key). */
  awsProfile: string | null;
  cols: number;
  rows: number;
  onEvent: (e: SessionEvent) => void;
  onOutput: OutputHandler;
  open: boolean;
  shell: boolean;
  line: string;
  pasting: boolean;
  /** The pending host-key question: its fingerprint and where the answer goes. */
  hostKey: { fingerprint: string; answer: (d: TrustDecision) => void } | null;
  cwd: string;
};

export type MockBackend = Backend & {
  /** Test helpers. */
  readonly sessions: Map<number, MockSession>;
  readonly trusted: Set<string>;
  readonly resizes: Array<{ id: number; cols: number; rows: number }>;
  readonly accounts: MockAccounts;
  readonly setup: MockSetup;
  readonly pool: MockPool;
  readonly forwards: ReturnType<typeof createMockForwards>;
  /** The remote file systems and the stand-ins for the native pickers. */
  readonly files: MockFiles;
};

/** The second account's few instances (profile `staging`). */
export function stagingInstances(now = Date.now()): Instance[] {
  return [
    inst({ instance_id: 'i-0f9e8d7c6b5a40001', region: 'eu-west-1', name: 'staging-web', private_ip: '10.20.1.10',
      public_ip: '34.240.11.2', launch_time: ago(2 * DAY, now), tags: { Name: 'staging-web', Env: 'staging', Role: 'web' } }),
    inst({ instance_id: 'i-0f9e8d7c6b5a40002', region: 'eu-west-1', name: 'staging-old', state: 'stopped',
      private_ip: '10.20.1.11', launch_time: ago(90 * DAY, now), tags: { Name: 'staging-old', Env: 'staging' } }),
  ];
}

export function createMockBackend(opts: MockOptions = {}): MockBackend {
  const slow = opts.slow ?? 1;
  const delay = (ms: number) => (slow === 0 ? Promise.resolve() : sleep(ms * slow));
  const now = Date.now();
  const all = opts.empty ? [] : [...mockInstances(now), ...fillerInstances(opts.count ?? 0, now)];
  const sessions = new Map<number, MockSession>();
  const pool = new MockPool(opts.idleMs ?? 600_000);
  // Already known: web-1, web-2, bastion; legacy-app is pinned but "rebuilt" (its key changed).
  const trusted = new Set<string>(['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60005', 'i-0a1b2c3d4e5f60009']);
  const resizes: Array<{ id: number; cols: number; rows: number }> = [];
  let nextId = 1;
  const staging = opts.empty ? [] : stagingInstances(now);
  const accounts = createMockAccounts({ empty: opts.empty, firstRun: opts.firstRun, delay, instances: () => [...all, ...staging] });
  const setup = createMockSetup(accounts, !!opts.firstRun);
  const files = createMockFiles({
    delay,
    tick: () => sleep(slow === 0 ? 0 : 100 * slow),
    sessionOf: (id) => {
      const s = sessions.get(id);
      return s?.open && s.shell ? { instanceId: s.request.instance_id, osUser: s.request.os_user } : null;
    },
  }, opts.count ?? 0);
  const instancesOf = (awsProfile: string | null) =>
    (accounts.accountOf(awsProfile) === MOCK_ACCOUNTS.staging ? staging : all);

  // The same kind, hint and fix as the backend's error for the same case.
  const fail = (kind: ApiError['kind'], message: string, hint: string | null = null, fix: Fix | null = null): ApiError =>
    ({ kind, message, hint, fix });

  async function emit(s: MockSession, text: string): Promise<void> {
    if (!s.open) return;
    const bytes = enc.encode(text);
    for (let off = 0; off < bytes.length && s.open; off += 32 * 1024) {
      // As the backend: the next bytes go once the page has room for them.
      await s.onOutput(bytes.slice(off, off + 32 * 1024));
      if (bytes.length > 32 * 1024) await Promise.resolve();
    }
  }

  function host(s: MockSession): string {
    const ip = s.inst?.private_ip ?? '10.0.0.1';
    return `ip-${ip.replaceAll('.', '-')}`;
  }

  function prompt(s: MockSession): string {
    return `\x1b[1;32m${s.request.os_user}@${host(s)}\x1b[0m:\x1b[1;34m${s.cwd}\x1b[0m$ `;
  }

  function end(s: MockSession, e: SessionEvent): void {
    if (!s.open) return;
    s.open = false;
    // As in the backend: a session that failed, ended or was lost is dropped, its channel first.
    sessions.delete(s.id);
    pool.release(s.id);
    s.onEvent(e);
  }

  async function run(s: MockSession, cmdline: string): Promise<void> {
    const [cmd = '', ...args] = cmdline.trim().split(/\s+/);
    const out = (t: string) => emit(s, t.replace(/\n/g, '\r\n'));
    switch (cmd) {
      case '': break;
      case 'echo': await out(args.join(' ') + '\n'); break;
      case 'whoami': await out(s.request.os_user + '\n'); break;
      case 'hostname': await out(host(s) + '\n'); break;
      case 'pwd': await out(s.cwd + '\n'); break;
      case 'cd': s.cwd = args[0] ?? '~'; break;
      case 'date': await out(new Date().toUTCString() + '\n'); break;
      case 'uname':
        await out(args[0] === '-a' ? `Linux ${host(s)} 6.1.112-124.190.amzn2023.x86_64 #1 SMP x86_64 GNU/Linux\n` : 'Linux\n');
        break;
      case 'ls':
        await out('\x1b[1;34mapp\x1b[0m  \x1b[1;34mbackups\x1b[0m  deploy.sh  notes.md  \x1b[1;32mrun.sh\x1b[0m\n');
        break;
      case 'stty':
        await out(`speed 38400 baud; rows ${s.rows}; columns ${s.cols}; line = 0;\n`);
        break;
      case 'colors': {
        let t = '';
        for (let i = 0; i < 16; i++) t += `\x1b[48;5;${i}m  ${String(i).padStart(2)} \x1b[0m${i === 7 ? '\n' : ''}`;
        t += '\n\x1b[1mbold\x1b[0m \x1b[3mitalic\x1b[0m \x1b[4munderline\x1b[0m \x1b[31mred\x1b[0m \x1b[32mgreen\x1b[0m \x1b[33myellow\x1b[0m \x1b[34mblue\x1b[0m \x1b[35mmagenta\x1b[0m \x1b[36mcyan\x1b[0m\n';
        await out(t);
        break;
      }
      case 'unicode': await out('Zürich ñandú 東京 — 🙂 ✓ λ → ∞\n'); break;
      case 'seq': {
        const n = Math.min(Number(args[0] ?? 10) || 10, 1_000_000);
        let t = '';
        for (let i = 1; i <= n; i++) {
          t += i + '\n';
          if (t.length > 64 * 1024) { await out(t); t = ''; }
        }
        await out(t);
        break;
      }
      case 'clear': await emit(s, '\x1b[H\x1b[2J\x1b[3J'); break;
      case 'help':
        await out('mock shell: echo, whoami, hostname, pwd, date, uname -a, ls, stty, colors, unicode, seq N, clear, drop, exit [N], kill\n');
        break;
      case 'drop': {
        // The connection drops: every tab on it is lost, for the same reason.
        const lost = fail('connection_lost', `the connection to ${s.request.instance_id} dropped: keepalive timeout (no answer for 45 s)`, 'Check your network or VPN, then reconnect.');
        for (const id of pool.drop(s.id)) {
          const other = sessions.get(id);
          if (other) end(other, { type: 'lost', error: lost });
        }
        return;
      }
      case 'kill':
        await out('Killed\n');
        end(s, { type: 'ended', exit: { signal: 'KILL', message: 'killed by signal' } });
        return;
      case 'exit': case 'logout':
        await out('logout\n');
        end(s, { type: 'ended', exit: { status: Number(args[0] ?? 0) || 0 } });
        return;
      default:
        await out(`-bash: ${cmd}: command not found\n`);
    }
    await emit(s, prompt(s));
  }

  async function input(s: MockSession, data: string): Promise<void> {
    data = data.replace(/\x1b\[200~/g, () => { s.pasting = true; return ''; })
      .replace(/\x1b\[201~/g, () => { s.pasting = false; return ''; });
    for (let i = 0; i < data.length; i++) {
      const ch = data[i]!;
      if (!s.open) return;
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && data[i - 1] === '\r') continue;
        const line = s.line;
        s.line = '';
        await emit(s, '\r\n');
        await run(s, line);
      } else if (ch === '\x7f' || ch === '\b') {
        if (s.line.length) {
          s.line = [...s.line].slice(0, -1).join('');
          await emit(s, '\b \b');
        }
      } else if (ch === '\x03') {
        s.line = '';
        await emit(s, '^C\r\n' + prompt(s));
      } else if (ch === '\x04') {
        if (!s.line) await run(s, 'exit');
      } else if (ch === '\x0c') {
        await emit(s, '\x1b[H\x1b[2J' + prompt(s) + s.line);
      } else if (ch === '\x1b') {
        // Skip an escape sequence (arrows, function keys).
        const m = /^\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)/.exec(data.slice(i));
        i += (m?.[0].length ?? 1) - 1;
      } else if (ch >= ' ') {
        s.line += ch;
        await emit(s, ch);
      }
    }
  }

  /** A tab's connect: a channel on the pooled connection when there is one, else a new one. */
  async function connect(s: MockSession): Promise<void> {
    const key = {
      aws_profile: s.awsProfile, region: s.request.region, instance_id: s.request.instance_id,
      os_user: s.request.os_user, port: s.request.port, via: s.request.via,
    };
    const joined = await pool.join(key);
    if ('error' in joined) return end(s, { type: 'failed', error: joined.error });
    if ('connection' in joined) {
      // As in the backend: no step, no question, no push; the channel opens.
      if (!s.open) return;
      pool.attach(joined.connection, s.id);
      return opened(s, joined.connection, joined.connection.channels.size);
    }
    const outcome = await dial(s);
    const pooled = joined.settle(outcome, s.id);
    if (pooled && s.open) return opened(s, pooled, pooled.channels.size);
    if (pooled) pool.release(s.id);
  }

  async function opened(s: MockSession, via: { address: string; endpoint: string | null }, shared: number): Promise<void> {
    const inst = s.inst!;
    s.shell = true;
    if (s.profile) accounts.markUsed(s.profile);
    s.onEvent({
      type: 'connected', address: via.address, endpoint_id: via.endpoint, tunnel_left_ms: via.endpoint ? 3_600_000 : null, shared,
    });
    const os = inst.platform?.includes('Ubuntu') ? 'Ubuntu 24.04.1 LTS (GNU/Linux 6.8.0-1016-aws aarch64)'
      : inst.platform === 'Debian' ? 'Debian GNU/Linux 12 (bookworm)' : 'Amazon Linux 2023.6.20241121';
    await emit(s, [
      `Welcome to ${os}`, '',
      ` * Instance:  ${inst.instance_id} (${inst.instance_type ?? '?'}, ${inst.availability_zone ?? inst.region})`,
      ` * Keyless:   one-time Ed25519 key, valid 60 s, never written to disk`, '',
      `Last login: ${new Date(Date.now() - 86_400_000).toUTCString()} from 10.0.0.5`,
      "Type 'help' for the mock shell's commands.", '',
    ].join('\r\n') + prompt(s));
  }

  /** As the core routes: eice always tunnels; auto tunnels when there is no public address. */
  function tunnels(via: Via, inst: Instance): boolean {
    return via === 'eice' || (via === 'auto' && !inst.public_ip && !!inst.private_ip);
  }

  function mockEndpointId(inst: Instance): string {
    const vpc = (inst.vpc_id ?? inst.instance_id).replace(/[^0-9a-f]/g, '');
    return `eice-0${vpc.padEnd(16, '0').slice(0, 16)}`;
  }

  /** A new connection: resolve, key, push with the handshake, host key, authenticate. */
  async function dial(s: MockSession): Promise<ConnectOutcome> {
    const GAVE_UP = { type: 'gave_up' } as const;
    const inst = s.inst;
    const step = async (name: Step, ms: number) => {
      const t = ms * (0.8 + Math.random() * 0.4);
      await delay(t);
      if (s.open) s.onEvent({ type: 'step', step: name, took_ms: Math.round(t) });
    };
    const failWith = (error: ApiError): ConnectOutcome => {
      end(s, { type: 'failed', error });
      return { type: 'failed', error };
    };
    await step('resolve', 3);
    if (!s.open) return GAVE_UP;
    if (!inst) {
      return failWith(fail('instance_not_found', `instance ${s.request.instance_id} was not found in ${s.request.region}`,
        'Check the region and the AWS profile.'));
    }
    if (inst.state !== 'running') {
      return failWith(fail('instance_not_running', `${inst.name || inst.instance_id} (${inst.instance_id}) is ${inst.state}, not running`,
        null, { type: 'start_instance' }));
    }
    const address = s.request.via === 'public' ? inst.public_ip
      : s.request.via === 'private' || s.request.via === 'eice' ? inst.private_ip : inst.public_ip ?? inst.private_ip;
    if (!address) {
      const what = `${inst.instance_id} has no ${s.request.via} IPv4 address`;
      if (s.request.via === 'public' && inst.private_ip) {
        return failWith(fail('no_address', what, 'It has a private address (reached over VPN or Direct Connect).', { type: 'use_address', via: 'private' }));
      }
      if (s.request.via === 'private' && inst.public_ip) {
        return failWith(fail('no_address', what, 'It has a public address.', { type: 'use_address', via: 'public' }));
      }
      return failWith(fail('no_address', what, 'Is the instance running and attached to a network?'));
    }
    await step('key', 1);
    if (inst.name === 'locked-down') {
      await delay(150);
      return failWith(fail('access_denied',
        `not allowed to push a key to ${inst.instance_id} as '${s.request.os_user}': User: arn:aws:sts::123456789012:assumed-role/Dev/alice is not authorized to perform: ec2-instance-connect:SendSSHPublicKey`,
        `Your IAM policy must allow ec2-instance-connect:SendSSHPublicKey on arn:aws:ec2:${inst.region}:<account>:instance/${inst.instance_id}. Check its conditions: ec2:osuser must allow '${s.request.os_user}', and aws:SourceIp must include the address you connect from (are you on the corporate network or VPN?).`));
    }
    // The push runs while the SSH handshake happens.
    const push = step('push', 180);
    if (tunnels(s.request.via, inst)) await step('tunnel', 90);
    await step('handshake', 120);
    if (!s.open) return GAVE_UP;
    const fp = FINGERPRINTS[inst.instance_id] ?? fakeFingerprint(inst.instance_id);
    if (inst.name === 'legacy-app') {
      await push;
      return failWith(fail('host_key_changed',
        `HOST KEY CHANGED for ${inst.instance_id}: it presented SHA256:Qm7vT2nB9xK4cW1zR8yL3pF6hD0sJ5aG2eU9iO4tY1k, but Keyless trusts ${fp}. Refusing to connect.`,
        'Someone may be impersonating the instance, or it was rebuilt. Verify the new key out of band (e.g. the instance\'s console output) before trusting it.',
        { type: 'forget_host_key', instance_id: inst.instance_id }));
    }
    if (!trusted.has(inst.instance_id)) {
      s.onEvent({ type: 'host_key_unknown', instance_id: inst.instance_id, algorithm: 'ssh-ed25519', fingerprint: fp });
      const decision = await new Promise<TrustDecision>((r) => { s.hostKey = { fingerprint: fp, answer: r }; });
      s.hostKey = null;
      if (!s.open) return GAVE_UP;
      if (decision === 'reject') {
        return failWith(fail('host_key_rejected', `you did not trust the host key of ${inst.instance_id} (${fp})`));
      }
      if (decision === 'always') trusted.add(inst.instance_id);
    }
    await push;
    if (!s.open) return GAVE_UP;
    if (inst.name === 'no-eic-package') {
      await step('authenticate', 40);
      return failWith(fail('auth_failed',
        `${inst.name} (${inst.instance_id}) refused the one-time key for '${s.request.os_user}', although EC2 Instance Connect accepted it`,
        `The instance metadata service is disabled on ${inst.instance_id} (MetadataOptions.HttpEndpoint = disabled), so it cannot fetch pushed keys. Enable it: aws ec2 modify-instance-metadata-options --instance-id ${inst.instance_id} --http-endpoint enabled`));
    }
    await step('authenticate', 45);
    if (!s.open) return GAVE_UP;
    return { type: 'connected', address: `${address}:${s.request.port}`, endpoint: tunnels(s.request.via, inst) ? mockEndpointId(inst) : null };
  }

  const forwards = createMockForwards(() => accounts.profilesList(), delay);
  const backend: MockBackend = {
    sessions, trusted, resizes, accounts, pool, forwards, files, setup,
    ...accounts,
    ...files,
    ssoSetupStart: setup.ssoSetupStart,
    ssoSetupCancel: setup.ssoSetupCancel,
    ssoSetupWrite: setup.ssoSetupWrite,
    startDemoLab: setup.startDemoLab,
    forwardStart: forwards.forwardStart,
    forwardStop: forwards.forwardStop,
    forwardReconnect: forwards.forwardReconnect,
    forwardList: forwards.forwardList,
    async openUrl(url) {
      // The backend's rule (core identity::browser), roughly: http(s) only, nothing like an option.
      if (!/^https?:\/\/[^\s]+$/i.test(url)) throw fail('invalid_input', 'not opened in the browser: only https:// pages are opened');
      // (With 'noopener' window.open always returns null, so the opener is cut by hand.)
      const w = window.open(url, '_blank');
      if (!w) throw fail('io', 'a popup blocker stopped the link');
      w.opener = null;
    },
    async appInfo(): Promise<AppInfo> {
      return {
        version: '0.1.0', lab: !!opts.lab, aws_profile: opts.lab ? null : 'admin-prod',
        default_regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'], default_port: 22, e2e: !!opts.e2e,
        offer_lab: !!opts.firstRun,
      };
    },
    async listRegions(awsProfile) {
      accounts.requireCredentials(awsProfile);
      await delay(60);
      return [...REGIONS];
    },
    async listInstances(awsProfile, regions): Promise<Inventory> {
      await delay(350);
      accounts.requireCredentials(awsProfile);
      if (opts.fail === 'credentials') {
        throw fail('credentials', "IAM Identity Center sign-in for profile 'admin-prod' has expired", null,
          { type: 'sso_login', aws_profile: 'admin-prod' });
      }
      if (opts.fail === 'network') {
        throw fail('network', 'cannot reach ec2.us-east-1.amazonaws.com: connection timed out',
          'Check the network, proxy, and any AWS_ENDPOINT_URL_* setting.');
      }
      const want = new Set(regions);
      return {
        instances: instancesOf(awsProfile).filter((i) => want.has(i.region)),
        errors: regions.filter((r) => FAILING[r]).map((r) => ({ region: r, ...FAILING[r]! })),
      };
    },
    async openSession(origin, request, cols, rows, onEvent, onOutput) {
      const id = nextId++;
      const s: MockSession = {
        id, request, inst: instancesOf(origin.awsProfile)
          .find((i) => i.region === request.region && i.instance_id === request.instance_id) ?? null,
        profile: origin.profile, awsProfile: origin.awsProfile, cols, rows, onEvent, onOutput, open: true, shell: false, line: '', pasting: false,
        hostKey: null, cwd: '~',
      };
      sessions.set(id, s);
      setTimeout(() => void connect(s), 0);
      return id;
    },
    async sessionInput(id, data) {
      const s = sessions.get(id);
      if (!s?.open || !s.shell) throw fail('io', `session ${id} is not open`);
      await input(s, data);
    },
    async sessionResize(id, cols, rows) {
      const s = sessions.get(id);
      resizes.push({ id, cols, rows });
      if (s) { s.cols = cols; s.rows = rows; }
    },
    async sessionHostKey(id, fingerprint, decision) {
      const pending = sessions.get(id)?.hostKey;
      if (!pending) throw fail('invalid_input', 'no host key question is waiting for an answer');
      if (pending.fingerprint !== fingerprint) {
        throw fail('invalid_input', `the host key question of this session is not about ${fingerprint}`);
      }
      pending.answer(decision);
    },
    async sessionClose(id) {
      const s = sessions.get(id);
      if (!s) return;
      s.hostKey?.answer('reject');
      s.open = false;
        sessions.delete(id);
      pool.release(id);
      // As in the backend: the tab's Files session goes with it.
      void files.filesClose(id);
    },
    async connectionStatus() {
      return pool.status();
    },
  };
  return backend;
}
