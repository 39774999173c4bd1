// One terminal tab: its connect request, lifecycle state and the xterm it writes into.
import type { ApiError, SessionEvent, Step, TrustDecision } from '../generated/bindings';
import { toConnectRequest, type TabRequest } from './tabRequest';

/** How a shell ended (docs/ipc.md calls it Exit, ts-rs may name it ExitInfo: derive it instead). */
export type Exit = Extract<SessionEvent, { type: 'ended' }>['exit'];
import * as backend from './backend';
import type { SessionOrigin } from './backend';
import { toApiError } from './errors';
import { BACKLOG_LOW, Backlog } from './flowControl';
import { framePacer } from './framePacing';
import { displayName } from './filter';
import type { TerminalController } from './terminal';

export type TabStatus = 'connecting' | 'connected' | 'ended' | 'lost' | 'failed';

/** Orders host-key questions by arrival, so the dialog shows the oldest and a newer one never
 *  replaces it under the user's cursor. */
let hostKeyArrivals = 0;
export type HostKeyPrompt = { instance_id: string; algorithm: string; fingerprint: string };

export const STEPS: ReadonlyArray<{ step: Step; label: string }> = [
  { step: 'resolve', label: 'Resolve address' },
  { step: 'key', label: 'Generate one-time key' },
  { step: 'push', label: 'Push key (EC2 Instance Connect)' },
  { step: 'tunnel', label: 'Open EICE tunnel' },
  { step: 'handshake', label: 'SSH handshake' },
  { step: 'authenticate', label: 'Authenticate' },
];

let nextKey = 1;

export class SessionTab {
  readonly key = nextKey++;
  readonly request: TabRequest;
  /** The AWS profile it connects as, and the saved profile it was opened from. */
  readonly origin: SessionOrigin;
  readonly title: string;

  status = $state<TabStatus>('connecting');
  steps = $state<Partial<Record<Step, number>>>({});
  hostKey = $state<HostKeyPrompt | null>(null);
  /** When `hostKey` arrived, among every tab's questions. */
  hostKeyArrival = 0;
  error = $state<ApiError | null>(null);
  exit = $state<Exit | null>(null);
  address = $state<string | null>(null);
  /** The EC2 Instance Connect Endpoint the connection goes through (null: direct). */
  endpointId = $state<string | null>(null);
  /** When the endpoint closes the tunnel (ms since the epoch; null: direct). */
  tunnelEndsAt = $state<number | null>(null);
  /** Input the backend refused (too much already waiting for the remote side), to say so once. */
  inputRefused = $state<ApiError | null>(null);
  attempts = $state(0);
  startedAt = $state(0);
  /** The terminal's current size (for the status bar). */
  cols = $state(0);
  /** 'WebGL' or 'DOM' (for the status bar). */
  renderer = $state('');
  rows = $state(0);

  /** Bound by SessionView once xterm exists. */
  term: TerminalController | null = null;
  /** The backend's id of the current attempt (the Files panel follows it across reconnects). */
  sessionId = $state<number | null>(null);
  private generation = 0;
  private idPromise: Promise<number> | null = null;
  /** What this attempt's output has handed xterm and xterm has not parsed yet. */
  private backlog: Backlog | null = null;
  private lastSize = { cols: 0, rows: 0 };
  /** Keystrokes and resizes go out one invoke at a time, in order: concurrent invokes could
   *  overtake each other on the way. */
  private outgoing: Promise<unknown> = Promise.resolve();

  /** Told after each session event and close: the shared connections may have changed. */
  private readonly onChange: () => void;

  constructor(
    request: TabRequest, origin: SessionOrigin = { awsProfile: null, profile: null }, onChange: () => void = () => {},
  ) {
    this.request = request;
    this.origin = origin;
    this.onChange = onChange;
    this.title = origin.profile ?? displayName(request.instance);
  }

  get live(): boolean {
    return this.status === 'connecting' || this.status === 'connected';
  }

  /** open_session at xterm's real size; events of older attempts are ignored. */
  async connect(size: { cols: number; rows: number }): Promise<void> {
    const gen = ++this.generation;
    this.status = 'connecting';
    this.steps = {};
    this.hostKey = null;
    this.error = null;
    this.exit = null;
    this.address = null;
    this.endpointId = null;
    this.tunnelEndsAt = null;
    this.attempts++;
    this.startedAt = Date.now();
    this.sessionId = null;
    this.lastSize = { ...size };
    this.cols = size.cols;
    this.rows = size.rows;
    // A reconnect replaces the old session: the backend drops an ended one itself, and this
    // closes one that is somehow still there.
    if (this.sessionId !== null) void backend.sessionClose(this.sessionId).catch(() => {});
    let resolveId!: (id: number) => void;
    const idPromise = new Promise<number>((r) => { resolveId = r; });
    this.idPromise = idPromise;
    const backlog = new Backlog(BACKLOG_LOW, (on) => framePacer().flooding(on));
    this.backlog?.close();
    this.backlog = backlog;
    try {
      const id = await backend.openSession(
        this.origin, toConnectRequest(this.request), size.cols, size.rows,
        (e) => { if (gen === this.generation) { this.onEvent(e); this.onChange(); } },
        (bytes) => (gen === this.generation ? this.term?.write(bytes, backlog) : undefined),
      );
      if (gen !== this.generation) {
        void backend.sessionClose(id).catch(() => {});
        return;
      }
      this.sessionId = id;
      resolveId(id);
    } catch (e) {
      if (gen !== this.generation) return;
      this.error = toApiError(e);
      this.status = 'failed';
    }
  }

  private onEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'step':
        this.steps = { ...this.steps, [e.step]: e.took_ms };
        break;
      case 'host_key_unknown':
        this.hostKeyArrival = ++hostKeyArrivals;
        this.hostKey = { instance_id: e.instance_id, algorithm: e.algorithm, fingerprint: e.fingerprint };
        break;
      case 'connected':
        this.status = 'connected';
        this.address = e.address;
        this.endpointId = e.endpoint_id;
        this.tunnelEndsAt = e.tunnel_left_ms === null ? null : Date.now() + e.tunnel_left_ms;
        this.hostKey = null;
        break;
      case 'failed':
        this.status = 'failed';
        this.error = e.error;
        this.hostKey = null;
        break;
      case 'ended':
        this.status = 'ended';
        this.exit = e.exit;
        break;
      case 'lost':
        this.status = 'lost';
        this.error = e.error;
        break;
    }
  }

  async answerHostKey(decision: TrustDecision): Promise<void> {
    const asked = this.hostKey;
    this.hostKey = null;
    if (!this.idPromise || !asked) return;
    const id = await this.idPromise;
    try {
      // The backend takes the answer only for the fingerprint it asked about.
      await backend.sessionHostKey(id, asked.fingerprint, decision);
    } catch (e) {
      this.error = toApiError(e);
      this.status = 'failed';
    }
  }

  input(data: string): void {
    // The connected event may overtake open_session's answer: queue on the id (FIFO keeps order).
    if (this.status !== 'connected' || !this.idPromise) return;
    this.sendInOrder((id) => backend.sessionInput(id, data).catch((e: unknown) => {
      const error = toApiError(e);
      if (error.kind === 'input_backlog') this.inputRefused = error;
      throw error;
    }));
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    if (cols === this.lastSize.cols && rows === this.lastSize.rows) return;
    this.lastSize = { cols, rows };
    if (!this.live || !this.idPromise) return;
    this.sendInOrder((id) => backend.sessionResize(id, cols, rows));
  }

  /** Chains `send` after everything sent before, once the session id is known. */
  private sendInOrder(send: (id: number) => Promise<void>): void {
    const idPromise = this.idPromise;
    if (!idPromise) return;
    const gen = this.generation;
    this.outgoing = this.outgoing
      .then(() => idPromise)
      .then((id) => (gen === this.generation ? send(id) : undefined))
      .catch(() => { /* ended meanwhile: the session's event says why */ });
  }

  /** The steps this tab's connect shows: the tunnel only where one may be opened. */
  get shownSteps(): ReadonlyArray<{ step: Step; label: string }> {
    const via = this.request.via;
    const tunnels = via === 'eice' || (via === 'auto' && this.steps.tunnel !== undefined);
    return STEPS.filter((s) => s.step !== 'tunnel' || tunnels);
  }

  /** A connected tab onto a new connection (a tunnel about to close): this session ends first. */
  async renew(size: { cols: number; rows: number }): Promise<void> {
    const id = this.sessionId;
    this.generation++;
    this.backlog?.close();
    this.sessionId = null;
    this.status = 'ended';
    if (id !== null) await backend.sessionClose(id).catch(() => {});
    await this.connect(size);
  }

  /** Disconnects (tab closing). */
  close(): void {
    this.generation++;
    this.backlog?.close();
    // An id still on its way is closed by connect() (the generation changed).
    const id = this.sessionId;
    if (id !== null) void backend.sessionClose(id).catch(() => {}).then(this.onChange);
    this.sessionId = null;
  }
}

/** The text of the end bar: "Session ended (exit 0)", "Killed by signal KILL", … */
export function exitSummary(exit: Exit): string {
  if ('status' in exit) return exit.status === 0 ? 'Session ended' : `Session ended with exit status ${exit.status}`;
  return `Session ended by signal ${exit.signal}${exit.message ? ` (${exit.message})` : ''}`;
}
