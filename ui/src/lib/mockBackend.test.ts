import { describe, expect, it } from 'vitest';
import type { SessionEvent, Via } from '../generated/bindings';
import { createMockBackend, fillerInstances, mockInstances } from './mockBackend';
import { toConnectRequest } from './tabRequest';

const dec = new TextDecoder();
const until = async (cond: () => boolean, ms = 2000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 2));
  }
};

function open(b: ReturnType<typeof createMockBackend>, name: string, opts: { via?: Via } = {}) {
  const instance = mockInstances().find((i) => i.name === name)!;
  const events: SessionEvent[] = [];
  let out = '';
  const idP = b.openSession({ awsProfile: null, profile: null }, toConnectRequest({ instance, os_user: 'ec2-user', port: 22, via: opts.via ?? 'private' }), 100, 30,
    (e) => events.push(e), (bytes) => { out += dec.decode(bytes); });
  const asked = () => events.flatMap((e) => (e.type === 'host_key_unknown' ? [e.fingerprint] : []))[0]!;
  return { events, output: () => out, idP, types: () => events.map((e) => e.type), asked };
}

describe('mock backend', () => {
  it('has the edge cases: two regions with data, a failing region, stopped, unnamed, empty, non-ASCII', async () => {
    const b = createMockBackend({ slow: 0 });
    const info = await b.appInfo();
    const inv = await b.listInstances(null, info.default_regions);
    expect(new Set(inv.instances.map((i) => i.region))).toEqual(new Set(['us-east-1', 'eu-west-1']));
    expect(inv.errors.map((e) => e.region)).toEqual(['ap-southeast-2']);
    expect(inv.instances.some((i) => i.state === 'stopped')).toBe(true);
    expect(inv.instances.some((i) => i.name === null)).toBe(true);
    expect(inv.instances.some((i) => i.name === '')).toBe(true);
    expect(inv.instances.some((i) => /[^\x00-\x7f]/.test(i.name ?? ''))).toBe(true);
    expect((await b.listRegions(null)).length).toBeGreaterThan(10);
  });

  it('generates filler with unique ids', () => {
    const f = fillerInstances(10_000);
    expect(new Set(f.map((i) => i.instance_id)).size).toBe(10_000);
  });

  it('connects through the steps, echoes typed lines and answers echo', async () => {
    const b = createMockBackend({ slow: 0 });
    const s = open(b, 'web-1');
    const id = await s.idP;
    await until(() => s.types().includes('connected'));
    expect(s.events.filter((e) => e.type === 'step').map((e) => (e as { step: string }).step).sort())
      .toEqual(['authenticate', 'handshake', 'key', 'push', 'resolve']);
    await b.sessionInput(id, 'echo hello world\r');
    await until(() => s.output().includes('hello world\r\n'));
    expect(s.output()).toContain('echo hello world');
    await b.sessionInput(id, 'exit 3\r');
    await until(() => s.types().includes('ended'));
    expect(s.events.at(-1)).toEqual({ type: 'ended', exit: { status: 3 } });
  });

  it('tunnels through the VPC endpoint for eice: a tunnel step, the endpoint and its hour in the connected event', async () => {
    const b = createMockBackend({ slow: 0 });
    const s = open(b, 'web-1', { via: 'eice' });
    await until(() => s.types().includes('connected'));
    expect(s.events.some((e) => e.type === 'step' && e.step === 'tunnel')).toBe(true);
    const connected = s.events.find((e): e is Extract<SessionEvent, { type: 'connected' }> => e.type === 'connected')!;
    expect(connected.endpoint_id).toMatch(/^eice-0[0-9a-f]{16}$/);
    expect(connected.tunnel_left_ms).toBe(3_600_000);
    const direct = open(b, 'web-1', { via: 'public' });
    await until(() => direct.types().includes('connected'));
    expect(direct.events.some((e) => e.type === 'step' && e.step === 'tunnel')).toBe(false);
  });

  it('asks about an unknown host key and remembers "always"', async () => {
    const b = createMockBackend({ slow: 0 });
    const s = open(b, 'staging-api');
    const id = await s.idP;
    await until(() => s.types().includes('host_key_unknown'));
    await expect(b.sessionHostKey(id, 'SHA256:notTheOneAsked', 'always')).rejects.toMatchObject({ kind: 'invalid_input' });
    await b.sessionHostKey(id, s.asked(), 'always');
    await until(() => s.types().includes('connected'));
    const again = open(b, 'staging-api');
    await until(() => again.types().includes('connected'));
    expect(again.types()).not.toContain('host_key_unknown');
  });

  it('rejecting the host key fails with host_key_rejected', async () => {
    const b = createMockBackend({ slow: 0 });
    const s = open(b, 'staging-api');
    const id = await s.idP;
    await until(() => s.types().includes('host_key_unknown'));
    await b.sessionHostKey(id, s.asked(), 'reject');
    await until(() => s.types().includes('failed'));
    expect((s.events.at(-1) as { error: { kind: string } }).error.kind).toBe('host_key_rejected');
  });

  it('simulates the errors: stopped, changed host key, access denied, no address, lost', async () => {
    const b = createMockBackend({ slow: 0 });
    const kindOf = async (name: string, via?: 'public') => {
      const s = open(b, name, { via });
      await until(() => s.types().includes('failed'));
      return (s.events.at(-1) as { error: { kind: string; message: string } }).error;
    };
    expect((await kindOf('batch-worker')).kind).toBe('instance_not_running');
    const changed = await kindOf('legacy-app');
    expect(changed.kind).toBe('host_key_changed');
    expect(changed.message.match(/SHA256:/g)).toHaveLength(2);
    expect((await kindOf('locked-down')).kind).toBe('access_denied');
    expect((await kindOf('db-primary', 'public')).kind).toBe('no_address');

    const s = open(b, 'web-1');
    const id = await s.idP;
    await until(() => s.types().includes('connected'));
    await b.sessionInput(id, 'drop\r');
    await until(() => s.types().includes('lost'));
    await expect(b.sessionInput(id, 'x')).rejects.toMatchObject({ kind: 'io' });
  });

  it('applies flow control: sends more only once the page has room', async () => {
    const b = createMockBackend({ slow: 0 });
    const instance = mockInstances().find((i) => i.name === 'web-1')!;
    let received = 0;
    let connected = false;
    let room: (() => void) | null = null;
    let holding = false;
    const id = await b.openSession({ awsProfile: null, profile: null }, toConnectRequest({ instance, os_user: 'ec2-user', port: 22, via: 'private' }), 80, 24,
      (e) => { if (e.type === 'connected') connected = true; },
      (bytes) => {
        received += bytes.byteLength;
        return holding ? new Promise<void>((r) => { room = r; }) : undefined;
      });
    await until(() => connected);
    await new Promise((r) => setTimeout(r, 10));
    received = 0;
    holding = true;
    void b.sessionInput(id, 'seq 400000\r');
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(64 * 1024);
    const held = received;
    holding = false;
    room!();
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toBeGreaterThan(held + 1024 * 1024);
  });

  it('list_instances can fail as a whole', async () => {
    const b = createMockBackend({ slow: 0, fail: 'credentials' });
    await expect(b.listInstances(null, ['us-east-1'])).rejects.toMatchObject({ kind: 'credentials' });
  });
});

describe('mock connection pool (as core pool.rs)', () => {
  const steps = (s: ReturnType<typeof open>) => s.events.filter((e) => e.type === 'step').length;
  const connected = (s: ReturnType<typeof open>) =>
    s.events.find((e): e is Extract<SessionEvent, { type: 'connected' }> => e.type === 'connected');

  it('a second tab is a channel on the first one\'s connection: no steps, shared 2', async () => {
    const b = createMockBackend({ slow: 0 });
    const first = open(b, 'web-1');
    await until(() => first.types().includes('connected'));
    const second = open(b, 'web-1');
    await until(() => second.types().includes('connected'));
    expect(steps(first)).toBe(5);
    expect(steps(second)).toBe(0);
    expect(connected(first)?.shared).toBe(1);
    expect(connected(second)?.shared).toBe(2);
    expect((await b.connectionStatus()).map((e) => [e.instance_id, e.channels, e.idle]))
      .toEqual([[mockInstances().find((i) => i.name === 'web-1')!.instance_id, 2, false]]);
    await b.sessionClose(await first.idP);
    expect((await b.connectionStatus())[0]!.channels).toBe(1);
    await b.sessionInput(await second.idP, 'exit\r');
    await until(() => second.types().includes('ended'));
    expect((await b.connectionStatus())[0]!.idle).toBe(true);
  });

  it('closes an idle connection after the idle timeout', async () => {
    const b = createMockBackend({ slow: 0, idleMs: 5 });
    const s = open(b, 'web-1');
    await until(() => s.types().includes('connected'));
    await b.sessionClose(await s.idP);
    await until(() => b.pool.status().length === 0);
  });

  it('tabs opened together wait for one connect and share its failure', async () => {
    // Slow enough that the second opens while the first connects.
    const b = createMockBackend({ slow: 0.05 });
    const [x, y] = [open(b, 'locked-down'), open(b, 'locked-down')];
    await until(() => x.types().includes('failed') && y.types().includes('failed'));
    expect([steps(x), steps(y)].sort(), 'one connect').toEqual([0, 2]);
    expect(x.events.at(-1)).toEqual(y.events.at(-1));
  });

  it('the host-key question belongs to the tab that started the connect', async () => {
    const b = createMockBackend({ slow: 0 });
    const asking = open(b, 'staging-api');
    await until(() => asking.types().includes('host_key_unknown'));
    const waiting = open(b, 'staging-api');
    await new Promise((r) => setTimeout(r, 5));
    expect(waiting.types()).toEqual([]);
    // The asking tab closes: the waiting one asks its own question.
    await b.sessionClose(await asking.idP);
    await until(() => waiting.types().includes('host_key_unknown'));
    await b.sessionHostKey(await waiting.idP, waiting.asked(), 'once');
    await until(() => waiting.types().includes('connected'));
    expect(connected(waiting)?.shared).toBe(1);
  });
});
