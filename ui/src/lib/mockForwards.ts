// The browser mock's saved forwards, behaving as the backend's: the forward is looked up by
// profile and index, a taken local port rejects (`io`, naming it), statuses go connecting →
// listening, and stopping sends `stopped`. Nothing listens for real in a browser.
import type { ApiError, ForwardEntry, ForwardStatus, Profile } from '../generated/bindings';
import type { Backend } from './backend';

type Running = { id: number; profile: string; index: number; status: ForwardStatus; onStatus: (s: ForwardStatus) => void };

export function createMockForwards(
  profiles: () => Promise<Profile[]>, delay: (ms: number) => Promise<void>,
): Pick<Backend, 'forwardStart' | 'forwardStop' | 'forwardReconnect' | 'forwardList'> & { running: Map<number, Running> } {
  const running = new Map<number, Running>();
  let nextId = 1;
  const fail = (kind: ApiError['kind'], message: string, hint: string | null = null): ApiError =>
    ({ kind, message, hint, fix: null });
  const send = (r: Running, change: Partial<ForwardStatus>) => {
    r.status = { ...r.status, ...change };
    r.onStatus({ ...r.status });
  };
  return {
    running,
    async forwardStart(profile, index, _request, onStatus) {
      const p = (await profiles()).find((x) => x.name === profile);
      if (!p) throw fail('invalid_input', `no profile named '${profile}'`);
      const f = p.forwards?.[index];
      if (!f) throw fail('invalid_input', `'${profile}' has no forward ${index + 1}`);
      if ([...running.values()].some((r) => r.profile === profile && r.index === index)) {
        throw fail('invalid_input', `forward ${index + 1} of '${profile}' is already running`, 'Stop it first, or reconnect it.');
      }
      const local = `${f.bind ?? '127.0.0.1'}:${f.local_port}`;
      const taken = [...running.values()].some((r) => r.status.local_address === local);
      if (taken || f.local_port === 1) {
        throw fail('io', `cannot listen on ${local} for the forward to ${f.host}:${f.port}: Address in use`,
          `Is port ${f.local_port} taken by another program? Choose another local port.`);
      }
      const r: Running = {
        id: nextId++, profile, index, onStatus,
        status: { local_address: local, target: `${f.host}:${f.port}`, state: 'connecting', active: 0, total: 0, sent: 0, received: 0, last_error: null },
      };
      running.set(r.id, r);
      void delay(120).then(() => { if (running.has(r.id)) send(r, { state: 'listening' }); });
      return r.id;
    },
    async forwardStop(id) {
      const r = running.get(id);
      if (!r) return;
      running.delete(id);
      send(r, { state: 'stopped' });
    },
    async forwardReconnect(id) {
      const r = running.get(id);
      if (!r) throw fail('invalid_input', `no forward ${id}`);
      send(r, { state: 'connecting' });
      await delay(120);
      if (running.has(id)) send(r, { state: 'listening', last_error: null });
    },
    async forwardList(): Promise<ForwardEntry[]> {
      return [...running.values()].map((r) => ({ id: r.id, profile: r.profile, index: r.index, status: { ...r.status } }));
    },
  };
}
