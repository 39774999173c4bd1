// The ONLY module that imports @tauri-apps/*. Everything else talks to the functions below, so
// the UI also runs in a plain browser (design work, unit tests) against ./mockBackend.
import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  AppInfo, ConnectRequest, Inventory, SessionEvent, TrustDecision,
} from '../generated/bindings';
import { toApiError } from './errors';

/** Terminal bytes as they come on the output channel (raw binary; a number[] is tolerated). */
export type OutputChunk = ArrayBuffer | Uint8Array | number[];

/** One implementation of docs/ipc.md: the Tauri one, or the browser mock. */
export interface Backend {
  appInfo(): Promise<AppInfo>;
  listRegions(): Promise<string[]>;
  listInstances(regions: string[]): Promise<Inventory>;
  openSession(
    request: ConnectRequest, cols: number, rows: number,
    onEvent: (event: SessionEvent) => void, onOutput: (bytes: Uint8Array) => void,
  ): Promise<number>;
  sessionInput(id: number, data: string): Promise<void>;
  sessionResize(id: number, cols: number, rows: number): Promise<void>;
  sessionAck(id: number, bytes: number): Promise<void>;
  sessionHostKey(id: number, decision: TrustDecision): Promise<void>;
  sessionClose(id: number): Promise<void>;
}

export function toBytes(chunk: OutputChunk): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) {
    const v = chunk as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  return Uint8Array.from(chunk);
}

/** invoke() whose rejection is always an ApiError. */
async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toApiError(e);
  }
}

const tauriBackend: Backend = {
  appInfo: () => call<AppInfo>('app_info'),
  listRegions: () => call<string[]>('list_regions'),
  listInstances: (regions) => call<Inventory>('list_instances', { regions }),
  async openSession(request, cols, rows, onEvent, onOutput) {
    const events = new Channel<SessionEvent>();
    events.onmessage = onEvent;
    const output = new Channel<OutputChunk>();
    output.onmessage = (chunk) => onOutput(toBytes(chunk));
    return call<number>('open_session', { request, cols, rows, events, output });
  },
  sessionInput: (id, data) => call<void>('session_input', { id, data }),
  sessionResize: (id, cols, rows) => call<void>('session_resize', { id, cols, rows }),
  sessionAck: (id, bytes) => call<void>('session_ack', { id, bytes }),
  sessionHostKey: (id, decision) => call<void>('session_host_key', { id, decision }),
  sessionClose: (id) => call<void>('session_close', { id }),
};

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
export const listRegions = async (): Promise<string[]> => (await backend()).listRegions();
export const listInstances = async (regions: string[]): Promise<Inventory> =>
  (await backend()).listInstances(regions);
/** Opens a session; resolves with its id at once. Progress, prompt and end come on onEvent. */
export const openSession = async (
  request: ConnectRequest, cols: number, rows: number,
  onEvent: (event: SessionEvent) => void, onOutput: (bytes: Uint8Array) => void,
): Promise<number> => (await backend()).openSession(request, cols, rows, onEvent, onOutput);
export const sessionInput = async (id: number, data: string): Promise<void> =>
  (await backend()).sessionInput(id, data);
export const sessionResize = async (id: number, cols: number, rows: number): Promise<void> =>
  (await backend()).sessionResize(id, cols, rows);
export const sessionAck = async (id: number, bytes: number): Promise<void> =>
  (await backend()).sessionAck(id, bytes);
export const sessionHostKey = async (id: number, decision: TrustDecision): Promise<void> =>
  (await backend()).sessionHostKey(id, decision);
export const sessionClose = async (id: number): Promise<void> =>
  (await backend()).sessionClose(id);

/**
 * Opens a link from the terminal in the system browser. Not part of docs/ipc.md: it uses the
 * opener plugin when the app registers it, else copies the link (the webview cannot navigate away).
 */
export async function openExternal(url: string): Promise<'opened' | 'copied' | 'failed'> {
  if (!/^https?:\/\//i.test(url)) return 'failed';
  if (inTauri) {
    try {
      await invoke('plugin:opener|open_url', { url });
      return 'opened';
    } catch { /* plugin not registered */ }
  } else {
    window.open(url, '_blank', 'noopener,noreferrer');
    return 'opened';
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
