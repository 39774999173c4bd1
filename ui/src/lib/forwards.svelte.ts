// Saved port forwards the app runs: start (on the connection the profile's tabs use — a tab of
// the profile that is open lends its request, else the profile is resolved as a connect would),
// stop, reconnect, and the latest status of each, by profile and index.
import type { ApiError, ConnectRequest, ForwardStatus, Profile } from '../generated/bindings';
import * as backend from './backend';
import { toApiError } from './errors';
import { osUserFor } from './osUser';
import { storage } from './prefs';
import { connectRequestFor } from './profileList';
import type { SessionTab } from './session.svelte';
import { toConnectRequest } from './tabRequest';

/** What ForwardsState needs of the app. */
export interface ForwardsHost {
  readonly tabs: SessionTab[];
  readonly info: { default_port: number } | null;
}

export type RunningForward = { id: number; status: ForwardStatus };

/** `profile#index`: one saved forward. */
const keyOf = (profile: string, index: number) => `${profile}#${index}`;

export class ForwardsState {
  /** Running forwards by `profile#index`. */
  running = $state<Record<string, RunningForward>>({});
  /** Why a forward did not start, by `profile#index`. */
  errors = $state<Record<string, ApiError>>({});
  busy = $state<Record<string, boolean>>({});

  constructor(private readonly host: ForwardsHost) {}

  get(profile: string, index: number): RunningForward | null {
    return this.running[keyOf(profile, index)] ?? null;
  }

  error(profile: string, index: number): ApiError | null {
    return this.errors[keyOf(profile, index)] ?? null;
  }

  /** Running forwards of one profile (for its tabs' status bar). */
  ofProfile(profile: string): RunningForward[] {
    return Object.entries(this.running)
      .filter(([k]) => k.startsWith(`${profile}#`))
      .map(([, v]) => v);
  }

  async start(p: Profile, index: number): Promise<void> {
    const key = keyOf(p.name, index);
    if (this.running[key] || this.busy[key]) return;
    this.busy = { ...this.busy, [key]: true };
    const { [key]: _, ...rest } = this.errors;
    this.errors = rest;
    try {
      const request = await this.requestFor(p);
      // Statuses may arrive before the id does: the latest is kept until then.
      let latest: ForwardStatus | null = null;
      let id: number | null = null;
      const show = (status: ForwardStatus) => {
        if (status.state === 'stopped') {
          const { [key]: _gone, ...others } = this.running;
          this.running = others;
        } else if (id !== null) {
          this.running = { ...this.running, [key]: { id, status } };
        }
      };
      id = await backend.forwardStart(p.name, index, request, (status) => {
        latest = status;
        show(status);
      });
      show(latest ?? initial(p, index));
    } catch (e) {
      this.errors = { ...this.errors, [key]: toApiError(e) };
    } finally {
      const { [key]: _b, ...others } = this.busy;
      this.busy = others;
    }
  }

  async stop(profile: string, index: number): Promise<void> {
    const key = keyOf(profile, index);
    const r = this.running[key];
    if (!r) return;
    const { [key]: _, ...rest } = this.running;
    this.running = rest;
    await backend.forwardStop(r.id);
  }

  async reconnect(profile: string, index: number): Promise<void> {
    const r = this.get(profile, index);
    if (r) await backend.forwardReconnect(r.id);
  }

  /** Fresh counters for every running forward (bytes move between events). */
  async refresh(): Promise<void> {
    const list = await backend.forwardList();
    const next: Record<string, RunningForward> = {};
    for (const e of list) next[keyOf(e.profile, e.index)] = { id: e.id, status: e.status };
    this.running = next;
  }

  /** The request of an open tab of this profile (so the forward shares its connection), else
   *  the one a connect through the profile would use. */
  private async requestFor(p: Profile): Promise<ConnectRequest> {
    const tab = this.host.tabs.find((t) => t.origin.profile === p.name);
    if (tab) return toConnectRequest(tab.request);
    const candidates = await backend.profileResolve(p.name);
    if (candidates.length !== 1) {
      throw {
        kind: 'ambiguous_target',
        message: `${candidates.length} running instances match '${p.target}'`,
        hint: 'Connect a tab through the profile first (you pick the instance); its forwards then use that one.',
        fix: null,
      };
    }
    const store = storage();
    return toConnectRequest(connectRequestFor(p, candidates[0]!, {
      osUser: (i) => osUserFor(i, store),
      port: this.host.info?.default_port ?? 22,
    }));
  }
}

function initial(p: Profile, index: number): ForwardStatus {
  const f = p.forwards?.[index];
  return {
    local_address: f ? `${f.bind ?? '127.0.0.1'}:${f.local_port}` : '',
    target: f ? `${f.host}:${f.port}` : '',
    state: 'connecting', active: 0, total: 0, sent: 0, received: 0, last_error: null,
  };
}

/** "5432 → db.internal:5432", as the sidebar lists a saved forward. */
export function forwardLabel(f: { local_port: number; bind?: string | null; host: string; port: number }): string {
  const bind = f.bind ? `${f.bind}:` : '';
  return `${bind}${f.local_port} → ${f.host}:${f.port}`;
}

/** "1.2 MB", for byte counters. */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
