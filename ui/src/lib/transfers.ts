// A transfer as the transfers list shows it, built from the backend's updates (docs/ipc.md,
// "Files"): one row per file with its progress and its own error, the total, and a rate.
import type { ApiError, TransferStarted, TransferUpdate } from '../generated/bindings';
import { baseName } from './files';

export type FileState = 'running' | 'done' | 'failed';
export type FileRow = { file: number; name: string; size: number; bytes: number; state: FileState; error: ApiError | null };
export type TransferState = 'running' | 'done' | 'failed' | 'cancelled';

export type Transfer = {
  id: number;
  direction: TransferStarted['direction'];
  /** What was picked or dropped (names only), shown until the files report themselves. */
  names: string[];
  /** Where it goes: the remote folder, or the name of the local folder picked. */
  dest: string;
  files: FileRow[];
  state: TransferState;
  /** Why the whole transfer stopped (a per-file error is on its row). */
  error: ApiError | null;
  /** Bytes moved, all files together. */
  bytes: number;
  /** Bytes per second over the last few seconds (null before there is enough to say). */
  rate: number | null;
  /** Recent (time, bytes) samples the rate is taken from. */
  samples: Array<[number, number]>;
};

/** The rate looks this far back. */
const RATE_WINDOW_MS = 3000;

export function newTransfer(started: TransferStarted): Transfer {
  return {
    id: started.id, direction: started.direction, names: [...started.names], dest: started.dest,
    files: [], state: 'running', error: null, bytes: 0, rate: null, samples: [],
  };
}

function row(t: Transfer, file: number): FileRow | undefined {
  return t.files.find((f) => f.file === file);
}

/** Applies one update (in arrival order); `now` in ms. */
export function applyUpdate(t: Transfer, u: TransferUpdate, now: number): void {
  switch (u.type) {
    case 'file': {
      const e = u.event;
      switch (e.type) {
        case 'file_started':
          t.files.push({ file: e.file, name: baseName(e.path), size: e.size, bytes: 0, state: 'running', error: null });
          break;
        case 'progress': {
          const f = row(t, e.file);
          if (f) f.bytes = Math.max(f.bytes, e.bytes);
          break;
        }
        case 'file_done': {
          const f = row(t, e.file);
          if (f) { f.state = 'done'; f.bytes = Math.max(f.bytes, f.size); }
          break;
        }
        case 'file_failed': {
          const f = row(t, e.file);
          if (f) { f.state = 'failed'; f.error = e.error; }
          break;
        }
      }
      break;
    }
    case 'finished':
      t.state = u.failed > 0 ? 'failed' : 'done';
      break;
    case 'failed':
      t.state = 'failed';
      t.error = u.error;
      break;
    case 'cancelled':
      t.state = 'cancelled';
      break;
  }
  t.bytes = t.files.reduce((n, f) => n + f.bytes, 0);
  measure(t, now);
}

function measure(t: Transfer, now: number): void {
  if (t.state !== 'running') { t.rate = null; t.samples = []; return; }
  t.samples.push([now, t.bytes]);
  while (t.samples.length > 2 && now - t.samples[1]![0] >= RATE_WINDOW_MS) t.samples.shift();
  const [t0, b0] = t.samples[0]!;
  t.rate = now - t0 >= 250 ? ((t.bytes - b0) * 1000) / (now - t0) : t.rate;
}

/** Total size of the files reported so far. */
export function totalSize(t: Transfer): number {
  return t.files.reduce((n, f) => n + f.size, 0);
}

/** 0…1 for the transfer's bar (0 while nothing is known; 1 once done). */
export function fraction(t: Transfer): number {
  if (t.state === 'done') return 1;
  const size = totalSize(t);
  return size > 0 ? Math.min(1, t.bytes / size) : 0;
}

export const failedFiles = (t: Transfer): FileRow[] => t.files.filter((f) => f.state === 'failed');

/** The line under a transfer: "2 of 3 files · 1 failed", "Cancelled", … */
export function summary(t: Transfer): string {
  const n = t.files.length || t.names.length;
  const done = t.files.filter((f) => f.state === 'done').length;
  const failed = failedFiles(t).length;
  const files = `${done} of ${n} file${n === 1 ? '' : 's'}`;
  switch (t.state) {
    case 'running': return files;
    case 'cancelled': return `Cancelled · ${files}`;
    case 'done': return `Done · ${files}`;
    case 'failed': return t.error ? 'Failed' : `${files} · ${failed} failed`;
  }
}
