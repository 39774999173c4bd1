// The browser mock's connection pool, behaving as core's `pool.rs`: one connection per key shared
// by its tabs, one connect at a time per key (others wait and share its outcome; they connect
// themselves only when the connecting tab gave up), an idle timeout after the last tab, and a
// dropped connection that takes every tab on it along.
import type { ApiError, PoolEntry, PoolKey } from '../generated/bindings';

export type MockConnection = {
  key: PoolKey;
  address: string;
  /** The endpoint it tunnels through (null: direct). */
  endpoint: string | null;
  /** The ids of the sessions on it. */
  channels: Set<number>;
  idleTimer: ReturnType<typeof setTimeout> | null;
};

/** How a connect ended, as the tabs waiting for it learn. */
export type ConnectOutcome =
  | { type: 'connected'; address: string; endpoint: string | null }
  | { type: 'failed'; error: ApiError }
  | { type: 'gave_up' };

/** What `join` found: a connection to use, the shared error, or the turn to connect. */
export type Joined =
  | { connection: MockConnection }
  | { error: ApiError }
  | { settle: (outcome: ConnectOutcome, sessionId: number) => MockConnection | null };

const idOf = (k: PoolKey) => JSON.stringify([k.aws_profile, k.region, k.instance_id, k.os_user, k.port, k.via]);

export class MockPool {
  private readonly connections = new Map<string, MockConnection>();
  private readonly inFlight = new Map<string, Promise<ConnectOutcome>>();

  constructor(private readonly idleMs: number) {}

  /** Waits for a connect to `key` already running; then a live connection, its error, or the turn
   *  to connect (call `settle` with the outcome: it pools a connection and takes the first seat). */
  async join(key: PoolKey): Promise<Joined> {
    const k = idOf(key);
    for (let pending = this.inFlight.get(k); pending; pending = this.inFlight.get(k)) {
      const outcome = await pending;
      if (outcome.type === 'failed') return { error: outcome.error };
    }
    const live = this.connections.get(k);
    if (live) return { connection: live };
    let resolve!: (o: ConnectOutcome) => void;
    this.inFlight.set(k, new Promise((r) => { resolve = r; }));
    return {
      settle: (outcome, sessionId) => {
        let pooled: MockConnection | null = null;
        if (outcome.type === 'connected') {
          pooled = { key, address: outcome.address, endpoint: outcome.endpoint, channels: new Set([sessionId]), idleTimer: null };
          this.connections.set(k, pooled);
        }
        this.inFlight.delete(k);
        resolve(outcome);
        return pooled;
      },
    };
  }

  /** One more tab on `c` (it is no longer idle). */
  attach(c: MockConnection, sessionId: number): void {
    if (c.idleTimer !== null) clearTimeout(c.idleTimer);
    c.idleTimer = null;
    c.channels.add(sessionId);
  }

  /** The session's tab is gone; after the last one the connection waits out the idle timeout. */
  release(sessionId: number): void {
    for (const [k, c] of this.connections) {
      if (!c.channels.delete(sessionId) || c.channels.size > 0) continue;
      c.idleTimer = setTimeout(() => {
        if (this.connections.get(k) === c && c.channels.size === 0) this.connections.delete(k);
      }, this.idleMs);
    }
  }

  /** The connection under `sessionId` drops: it leaves the pool; the ids of every tab on it. */
  drop(sessionId: number): number[] {
    for (const [k, c] of this.connections) {
      if (!c.channels.has(sessionId)) continue;
      this.connections.delete(k);
      if (c.idleTimer !== null) clearTimeout(c.idleTimer);
      return [...c.channels];
    }
    return [sessionId];
  }

  status(): PoolEntry[] {
    return [...this.connections.values()].map((c) => ({
      ...c.key, address: c.address, endpoint_id: c.endpoint, channels: c.channels.size, idle: c.channels.size === 0,
    }));
  }
}
