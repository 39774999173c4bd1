// Tabs and the connection counts they show, against the browser mock's pool (mockPool.ts).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend } from './backend';
import { ConnectionsState } from './connections.svelte';
import { mockInstances, type MockBackend } from './mockBackend';
import { SessionTab } from './session.svelte';

const h = vi.hoisted(() => ({ mock: null as unknown as MockBackend }));

vi.mock('./backend', async () => {
  const { createMockBackend } = await import('./mockBackend');
  const b = () => h.mock as Backend;
  return {
    fresh: () => { h.mock = createMockBackend({ slow: 0 }); },
    openSession: (...a: Parameters<Backend['openSession']>) => b().openSession(...a),
    sessionClose: (id: number) => b().sessionClose(id),
    sessionInput: (id: number, d: string) => b().sessionInput(id, d),
    connectionStatus: () => b().connectionStatus(),
  };
});

const until = async (cond: () => boolean, what: string) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 2000) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('connection counts of tabs', () => {
  beforeEach(async () => {
    const backend = (await import('./backend')) as unknown as { fresh: () => void };
    backend.fresh();
  });

  function tabTo(name: string, connections: ConnectionsState, os_user = 'ec2-user'): SessionTab {
    const instance = mockInstances().find((i) => i.name === name)!;
    const tab = new SessionTab({ instance, os_user, port: 22, via: 'private' }, { awsProfile: null, profile: null },
      () => void connections.refresh());
    void tab.connect({ cols: 80, rows: 24 });
    return tab;
  }

  it('two tabs to one instance both show that they share; closing one puts the other back to 1', async () => {
    const connections = new ConnectionsState();
    const first = tabTo('web-1', connections);
    await until(() => first.status === 'connected', 'first connected');
    await until(() => connections.sharedBy(first) === 1, 'one tab');
    const second = tabTo('web-1', connections);
    await until(() => second.status === 'connected', 'second connected');
    expect(second.steps, 'a channel on the first connection: no steps').toEqual({});
    await until(() => connections.sharedBy(first) === 2 && connections.sharedBy(second) === 2, 'both see 2');
    const other = tabTo('web-1', connections, 'root');
    await until(() => other.status === 'connected', 'other user connected');
    expect(connections.sharedBy(other), 'another OS user: its own connection').toBe(1);
    first.close();
    await until(() => connections.sharedBy(second) === 1, 'back to one');
  });

  it('a dropped connection loses every tab on it; a Reconnect opens one the others then share', async () => {
    const connections = new ConnectionsState();
    // Two tabs at once: one connects, the other gets a channel on that connection.
    const [a, b] = [tabTo('web-1', connections), tabTo('web-1', connections)];
    await until(() => a.status === 'connected' && b.status === 'connected', 'both connected');
    expect(Object.keys(a.steps).length + Object.keys(b.steps).length > 0, 'one of them connected').toBe(true);
    expect(Object.keys(a.steps).length === 0 || Object.keys(b.steps).length === 0, 'the other reused it').toBe(true);
    a.input('drop\r');
    await until(() => a.status === 'lost' && b.status === 'lost', 'both lost');
    expect(a.error).toEqual(b.error);
    await until(() => connections.entries.length === 0, 'the connection gone');
    void a.connect({ cols: 80, rows: 24 });
    await until(() => a.status === 'connected', 'a reconnected');
    expect(a.steps.push, 'a new connection: a key push').toBeDefined();
    void b.connect({ cols: 80, rows: 24 });
    await until(() => b.status === 'connected', 'b reconnected');
    expect(b.steps).toEqual({});
    await until(() => connections.sharedBy(a) === 2, 'shared again');
  });

  it('an older answer never overwrites a newer one', async () => {
    const answers: Array<(v: never[]) => void> = [];
    const connections = new ConnectionsState(() => new Promise((r) => answers.push(r)));
    const older = connections.refresh();
    const newer = connections.refresh();
    const entry = { aws_profile: null, region: 'r', instance_id: 'i', os_user: 'u', port: 22, via: 'private' as const,
      address: 'a', channels: 2, idle: false };
    (answers[1] as unknown as (v: unknown[]) => void)([entry]);
    await newer;
    answers[0]!([]);
    await older;
    expect(connections.entries).toEqual([entry]);
  });
});
