// The ONLY module that imports @tauri-apps/*. Everything else talks to the functions below, so
// the UI also runs in a plain browser (design work, unit tests) against ./mockBackend.
import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  ApiError, AppInfo, AwsProfiles, CallerIdentity, ConnectRequest, Instance, Inventory, LoginPrompt, PoolEntry,
  Profile, SessionEvent, SignOut, TrustDecision,
} from '../generated/bindings';
import type { ForwardEntry, ForwardStatus } from '../generated/bindings';
import type { DroppedFiles, RemoteEntry, TransferStarted, TransferUpdate } from '../generated/bindings';
import type { ConfigWritten, Portal, SetupChoices } from '../generated/bindings';
import { toApiError } from './errors';
import { pullOutput } from './outputSocket';

/** The AWS profile a call runs as (null: the default chain, AWS_PROFILE or `default`). */
export type AwsProfileName = string | null;

/** Takes terminal bytes; resolves (if it returns a promise) when it can take more. */
export type OutputHandler = (bytes: Uint8Array) => void | Promise<void>;

/** Who a session connects as, and the saved profile it came from (its last_used is recorded). */
export type SessionOrigin = { awsProfile: AwsProfileName; profile: string | null };

/** One implementation of docs/ipc.md: the Tauri one, or the browser mock. */
export interface Backend {
  appInfo(): Promise<AppInfo>;
  listRegions(awsProfile: AwsProfileName): Promise<string[]>;
  listInstances(awsProfile: AwsProfileName, regions: string[]): Promise<Inventory>;
  /** `onOutput` gets the terminal bytes, in order; the next come once what it returned resolves
   *  (the terminal has room: flow control, docs/ipc.md). */
  openSession(
    origin: SessionOrigin, request: ConnectRequest, cols: number, rows: number,
    onEvent: (event: SessionEvent) => void, onOutput: OutputHandler,
  ): Promise<number>;
  sessionInput(id: number, data: string): Promise<void>;
  sessionResize(id: number, cols: number, rows: number): Promise<void>;
  /** Answers the session's host-key question about `fingerprint` (the one shown). */
  sessionHostKey(id: number, fingerprint: string, decision: TrustDecision): Promise<void>;
  sessionClose(id: number): Promise<void>;
  /** The pooled SSH connections and how many tabs each carries. */
  connectionStatus(): Promise<PoolEntry[]>;
  profilesList(): Promise<Profile[]>;
  /** Adds (previous = null) or replaces `previous` (maybe renamed); the new list. */
  profileSave(previous: string | null, profile: Profile): Promise<Profile[]>;
  /** Removes and returns the profile (saving it again is the undo). */
  profileDelete(name: string): Promise<Profile>;
  /** The running instances the profile may mean (1: connect; several: pick); rejects when none. */
  profileResolve(name: string): Promise<Instance[]>;
  awsProfiles(): Promise<AwsProfiles>;
  whoami(awsProfile: AwsProfileName): Promise<CallerIdentity>;
  /** IAM Identity Center device sign-in; onPrompt gets the code to confirm; resolves with the
   *  token's expiry (RFC 3339) once approved. */
  ssoLogin(awsProfile: AwsProfileName, onPrompt: (p: LoginPrompt) => void): Promise<string>;
  ssoLoginCancel(awsProfile: AwsProfileName): Promise<boolean>;
  /** Signs the profile's IAM Identity Center sign-in out (for the AWS CLI too); says what went. */
  ssoLogout(awsProfile: AwsProfileName): Promise<SignOut>;
  mfaSubmit(awsProfile: AwsProfileName, code: string): Promise<void>;
  // The first-run view (docs/ipc.md, "First run").
  /** Signs in to the IAM Identity Center portal at startUrl (onPrompt gets the device code, unless
   *  the config file's sso-session for it is still signed in) and lists its accounts and roles. */
  ssoSetupStart(startUrl: string, ssoRegion: string, onPrompt: (p: LoginPrompt) => void): Promise<Portal>;
  ssoSetupCancel(): Promise<boolean>;
  /** Adds the chosen roles' profiles to the AWS config file (only roles the last ssoSetupStart listed). */
  ssoSetupWrite(choices: SetupChoices): Promise<ConfigWritten>;
  /** Ends the app so that the run script starts the lab and the app in it (only when AppInfo.offer_lab). */
  startDemoLab(): Promise<void>;
  /** Opens an http(s) link in the system browser; rejects (invalid_input) any other link. */
  openUrl(url: string): Promise<void>;
  /** Starts saved forward `index` of `profile` on the connection `request` names; its id.
   *  Rejects when the local port is taken. Status changes come on onStatus. */
  forwardStart(
    profile: string, index: number, request: ConnectRequest, onStatus: (s: ForwardStatus) => void,
  ): Promise<number>;
  forwardStop(id: number): Promise<void>;
  forwardReconnect(id: number): Promise<void>;
  /** Every running forward with current counters. */
  forwardList(): Promise<ForwardEntry[]>;
  // The Files panel of session `session` (docs/ipc.md, "Files"). Local paths never pass here:
  // the backend opens the native pickers itself and keeps dropped files' paths.
  /** Opens SFTP on the session's connection; resolves with the remote home folder. */
  filesOpen(session: number, onDrop: (d: DroppedFiles) => void): Promise<string>;
  filesClose(session: number): Promise<void>;
  filesList(session: number, dir: string): Promise<RemoteEntry[]>;
  filesMkdir(session: number, path: string): Promise<void>;
  filesRename(session: number, from: string, to: string): Promise<void>;
  /** `recursive` only after the user confirmed deleting that folder and all it holds. */
  filesDelete(session: number, path: string, recursive: boolean): Promise<void>;
  /** The native picker, then an upload into `dir`; null when the user cancelled the picker. */
  filesUpload(session: number, dir: string, onUpdate: (u: TransferUpdate) => void): Promise<TransferStarted | null>;
  filesUploadDropped(session: number, drop: number, dir: string, onUpdate: (u: TransferUpdate) => void): Promise<TransferStarted>;
  /** A native folder picker, then a download of `paths` into it; null when cancelled. */
  filesDownload(session: number, paths: string[], onUpdate: (u: TransferUpdate) => void): Promise<TransferStarted | null>;
  filesCancel(session: number, transfer: number): Promise<void>;
}

/** What the first-run set-up needs of a backend. */
export type SetupBackend = Pick<Backend, 'ssoSetupStart' | 'ssoSetupCancel' | 'ssoSetupWrite'>;

/** What the Files panel needs of a backend. */
export type FilesBackend = Pick<Backend,
  'filesOpen' | 'filesClose' | 'filesList' | 'filesMkdir' | 'filesRename' | 'filesDelete'
  | 'filesUpload' | 'filesUploadDropped' | 'filesDownload' | 'filesCancel'>;

const outputStopped: ApiError = {
  kind: 'connection_lost', message: 'the terminal output stopped: the window could not read it from the app',
  hint: 'Reconnect to open a new session.', fix: null,
};

/** invoke() whose rejection is always an ApiError. */
async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toApiError(e);
  }
}

// The loopback socket terminal output comes from (its URL carries this run's secret); asked once.
let outputSocketUrl: Promise<string> | null = null;
function outputSocket(): Promise<string> {
  outputSocketUrl ??= call<string>('output_socket').catch((e: unknown) => {
    outputSocketUrl = null;
    throw e;
  });
  return outputSocketUrl;
}

const tauriBackend: Backend = {
  appInfo: () => call<AppInfo>('app_info'),
  listRegions: (awsProfile) => call<string[]>('list_regions', { awsProfile }),
  listInstances: (awsProfile, regions) => call<Inventory>('list_instances', { awsProfile, regions }),
  async openSession(origin, request, cols, rows, onEvent, onOutput) {
    // Output is pulled (docs/ipc.md); the session's end is told only after its last bytes, as
    // the backend sent them (an end may arrive before the id does: it waits all the same).
    let drainedNow!: () => void;
    const drained = new Promise<void>((resolve) => { drainedNow = resolve; });
    const events = new Channel<SessionEvent>();
    events.onmessage = (e) => {
      if (e.type === 'failed' || e.type === 'ended' || e.type === 'lost') void drained.then(() => onEvent(e));
      else onEvent(e);
    };
    const socket = outputSocket().catch(() => null); // asked beside the connect, not after it
    const id = await call<number>('open_session', {
      awsProfile: origin.awsProfile, profile: origin.profile, request, cols, rows, events,
    });
    const base = await socket;
    const pulled = base === null ? Promise.resolve(false) : pullOutput(`${base}/${id}`, onOutput);
    void pulled.then((over) => {
      // Never seen; if it happens the tab must not just stop updating.
      if (!over) onEvent({ type: 'lost', error: outputStopped });
      drainedNow();
    });
    return id;
  },
  sessionInput: (id, data) => call<void>('session_input', { id, data }),
  sessionResize: (id, cols, rows) => call<void>('session_resize', { id, cols, rows }),
  sessionHostKey: (id, fingerprint, decision) => call<void>('session_host_key', { id, fingerprint, decision }),
  sessionClose: (id) => call<void>('session_close', { id }),
  connectionStatus: () => call<PoolEntry[]>('connection_status'),
  profilesList: () => call<Profile[]>('profiles_list'),
  profileSave: (previous, profile) => call<Profile[]>('profile_save', { previous, profile }),
  profileDelete: (name) => call<Profile>('profile_delete', { name }),
  profileResolve: (name) => call<Instance[]>('profile_resolve', { name }),
  awsProfiles: () => call<AwsProfiles>('aws_profiles'),
  whoami: (awsProfile) => call<CallerIdentity>('whoami', { awsProfile }),
  ssoLogin(awsProfile, onPrompt) {
    const prompt = new Channel<LoginPrompt>();
    prompt.onmessage = onPrompt;
    return call<string>('sso_login', { awsProfile, prompt });
  },
  ssoLoginCancel: (awsProfile) => call<boolean>('sso_login_cancel', { awsProfile }),
  ssoLogout: (awsProfile) => call<SignOut>('sso_logout', { awsProfile }),
  mfaSubmit: (awsProfile, code) => call<void>('mfa_submit', { awsProfile, code }),
  ssoSetupStart: (startUrl, ssoRegion, onPrompt) =>
    call<Portal>('sso_setup_start', { startUrl, ssoRegion, prompt: channelOf(onPrompt) }),
  ssoSetupCancel: () => call<boolean>('sso_setup_cancel'),
  ssoSetupWrite: (choices) => call<ConfigWritten>('sso_setup_write', { choices }),
  startDemoLab: () => call<void>('start_demo_lab'),
  openUrl: (url) => call<void>('open_url', { url }),
  forwardStart(profile, index, request, onStatus) {
    const events = new Channel<ForwardStatus>();
    events.onmessage = onStatus;
    return call<number>('forward_start', { profile, index, request, events });
  },
  forwardStop: (id) => call<void>('forward_stop', { id }),
  forwardReconnect: (id) => call<void>('forward_reconnect', { id }),
  forwardList: () => call<ForwardEntry[]>('forward_list'),
  filesOpen(session, onDrop) {
    const notices = new Channel<DroppedFiles>();
    notices.onmessage = onDrop;
    return call<string>('files_open', { session, notices });
  },
  filesClose: (session) => call<void>('files_close', { session }),
  filesList: (session, dir) => call<RemoteEntry[]>('files_list', { session, dir }),
  filesMkdir: (session, path) => call<void>('files_mkdir', { session, path }),
  filesRename: (session, from, to) => call<void>('files_rename', { session, from, to }),
  filesDelete: (session, path, recursive) => call<void>('files_delete', { session, path, recursive }),
  filesUpload: (session, dir, onUpdate) =>
    call<TransferStarted | null>('files_upload', { session, dir, updates: channelOf(onUpdate) }),
  filesUploadDropped: (session, drop, dir, onUpdate) =>
    call<TransferStarted>('files_upload_dropped', { session, drop, dir, updates: channelOf(onUpdate) }),
  filesDownload: (session, paths, onUpdate) =>
    call<TransferStarted | null>('files_download', { session, paths, updates: channelOf(onUpdate) }),
  filesCancel: (session, transfer) => call<void>('files_cancel', { session, transfer }),
};

function channelOf<T>(onMessage: (m: T) => void): Channel<T> {
  const c = new Channel<T>();
  c.onmessage = onMessage;
  return c;
}

/** True inside the Tauri webview. */
export const inTauri: boolean =
  typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;

let impl: Promise<Backend> | null = null;
function backend(): Promise<Backend> {
  impl ??= inTauri
    ? Promise.resolve(tauriBackend)
    : import('./mockBackend').then((m) => m.createMockBackend(m.mockOptionsFromLocation()));
  return impl;
}

export const appInfo = async (): Promise<AppInfo> => (await backend()).appInfo();
export const listRegions = async (awsProfile: AwsProfileName): Promise<string[]> =>
  (await backend()).listRegions(awsProfile);
export const listInstances = async (awsProfile: AwsProfileName, regions: string[]): Promise<Inventory> =>
  (await backend()).listInstances(awsProfile, regions);
/** Opens a session; resolves with its id at once. Progress, prompt and end come on onEvent. */
export const openSession = async (
  origin: SessionOrigin, request: ConnectRequest, cols: number, rows: number,
  onEvent: (event: SessionEvent) => void, onOutput: OutputHandler,
): Promise<number> => (await backend()).openSession(origin, request, cols, rows, onEvent, onOutput);
export const sessionInput = async (id: number, data: string): Promise<void> =>
  (await backend()).sessionInput(id, data);
export const sessionResize = async (id: number, cols: number, rows: number): Promise<void> =>
  (await backend()).sessionResize(id, cols, rows);
export const sessionHostKey = async (id: number, fingerprint: string, decision: TrustDecision): Promise<void> =>
  (await backend()).sessionHostKey(id, fingerprint, decision);
export const sessionClose = async (id: number): Promise<void> =>
  (await backend()).sessionClose(id);
export const connectionStatus = async (): Promise<PoolEntry[]> =>
  (await backend()).connectionStatus();
export const profilesList = async (): Promise<Profile[]> => (await backend()).profilesList();
export const profileSave = async (previous: string | null, profile: Profile): Promise<Profile[]> =>
  (await backend()).profileSave(previous, profile);
export const profileDelete = async (name: string): Promise<Profile> =>
  (await backend()).profileDelete(name);
export const profileResolve = async (name: string): Promise<Instance[]> =>
  (await backend()).profileResolve(name);
export const awsProfiles = async (): Promise<AwsProfiles> => (await backend()).awsProfiles();
export const whoami = async (awsProfile: AwsProfileName): Promise<CallerIdentity> =>
  (await backend()).whoami(awsProfile);
export const ssoLogin = async (
  awsProfile: AwsProfileName, onPrompt: (p: LoginPrompt) => void,
): Promise<string> => (await backend()).ssoLogin(awsProfile, onPrompt);
export const ssoLoginCancel = async (awsProfile: AwsProfileName): Promise<boolean> =>
  (await backend()).ssoLoginCancel(awsProfile);
export const ssoLogout = async (awsProfile: AwsProfileName): Promise<SignOut> =>
  (await backend()).ssoLogout(awsProfile);
export const mfaSubmit = async (awsProfile: AwsProfileName, code: string): Promise<void> =>
  (await backend()).mfaSubmit(awsProfile, code);
export const forwardStart = async (
  profile: string, index: number, request: ConnectRequest, onStatus: (s: ForwardStatus) => void,
): Promise<number> => (await backend()).forwardStart(profile, index, request, onStatus);
export const forwardStop = async (id: number): Promise<void> => (await backend()).forwardStop(id);
export const forwardReconnect = async (id: number): Promise<void> =>
  (await backend()).forwardReconnect(id);
export const forwardList = async (): Promise<ForwardEntry[]> => (await backend()).forwardList();

/** The first-run set-up's calls, on whichever backend runs (passed into its state once). */
export const setupBackend: SetupBackend = {
  ssoSetupStart: async (...a) => (await backend()).ssoSetupStart(...a),
  ssoSetupCancel: async () => (await backend()).ssoSetupCancel(),
  ssoSetupWrite: async (...a) => (await backend()).ssoSetupWrite(...a),
};
export const startDemoLab = async (): Promise<void> => (await backend()).startDemoLab();

/** The Files panel's calls, on whichever backend runs (passed into its state once). */
export const filesBackend: FilesBackend = {
  filesOpen: async (...a) => (await backend()).filesOpen(...a),
  filesClose: async (...a) => (await backend()).filesClose(...a),
  filesList: async (...a) => (await backend()).filesList(...a),
  filesMkdir: async (...a) => (await backend()).filesMkdir(...a),
  filesRename: async (...a) => (await backend()).filesRename(...a),
  filesDelete: async (...a) => (await backend()).filesDelete(...a),
  filesUpload: async (...a) => (await backend()).filesUpload(...a),
  filesUploadDropped: async (...a) => (await backend()).filesUploadDropped(...a),
  filesDownload: async (...a) => (await backend()).filesDownload(...a),
  filesCancel: async (...a) => (await backend()).filesCancel(...a),
};

/**
 * Opens a link (the sign-in page, a link in a terminal) in the system browser through the
 * backend's `open_url`, which refuses anything but http(s): 'failed' then. The webview itself
 * never navigates away. 'copied': only the browser mock, when a popup blocker stops it.
 */
export async function openExternal(url: string): Promise<'opened' | 'copied' | 'failed'> {
  try {
    await (await backend()).openUrl(url);
    return 'opened';
  } catch (e) {
    if (toApiError(e).kind !== 'io') return 'failed';
  }
  try {
    await writeClipboardText(url);
    return 'copied';
  } catch {
    return 'failed';
  }
}

/** Clipboard text through Tauri's clipboard plugin (WebKitGTK's own clipboard API refuses
 *  reads), or the browser's in a plain browser. Rejects when the clipboard is unavailable. */
export async function readClipboardText(): Promise<string> {
  if (inTauri) {
    const { readText } = await import('@tauri-apps/plugin-clipboard-manager');
    return readText();
  }
  return navigator.clipboard.readText();
}

export async function writeClipboardText(text: string): Promise<void> {
  if (inTauri) {
    const { writeText } = await import('@tauri-apps/plugin-clipboard-manager');
    return writeText(text);
  }
  return navigator.clipboard.writeText(text);
}
