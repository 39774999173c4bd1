// The browser mock's remote file systems (one per instance) and its stand-ins for the native
// pickers, behaving as the backend's Files commands do (docs/ipc.md, "Files"): the same calls,
// the same errors, transfers reported file by file and finished with one last word.
import type { ApiError, DroppedFiles, RemoteEntry, TransferStarted, TransferUpdate } from '../generated/bindings';
import type { FilesBackend } from './backend';
import { baseName, joinPath, parentOf } from './files';

type Node = { kind: RemoteEntry['kind']; size: number; mode: number; modified: number };
type Tree = Map<string, Node>;

export type MockFiles = FilesBackend & {
  /** What the next upload picker "picks" (names and sizes); null: the user cancels it. */
  nextPick: Array<{ name: string; size: number }> | null | undefined;
  /** The next download folder picker's answer; null: cancelled. */
  nextFolder: string | null | undefined;
  /** As if files were dropped onto the window at (x, y): every open panel hears of it. */
  drop(names: Array<{ name: string; size: number }>, x: number, y: number): void;
  /** Instance `instanceId`'s file system (tests look inside). */
  treeOf(instanceId: string): Tree;
  /** Open Files sessions by session id. */
  readonly open: Map<number, { instanceId: string; onDrop: (d: DroppedFiles) => void }>;
};

export type MockFilesOptions = {
  delay: (ms: number) => Promise<void>;
  /** Between two progress steps of a transfer: always a macrotask, so a transfer never starves
   *  timers (or a test waiting to cancel it). */
  tick: () => Promise<void>;
  /** The instance and OS user of a connected session, or null (not connected, no such id). */
  sessionOf: (id: number) => { instanceId: string; osUser: string } | null;
};

const fail = (kind: ApiError['kind'], message: string, hint: string | null = null): ApiError => ({ kind, message, hint, fix: null });
const NOW = Math.floor(Date.now() / 1000);

function seed(user: string, extra: number): Tree {
  const home = `/home/${user}`;
  const t: Tree = new Map();
  const dir = (p: string, mode = 0o755) => t.set(p, { kind: 'dir', size: 4096, mode, modified: NOW - 86_400 * 3 });
  const file = (p: string, size: number, mode = 0o644, ago = 3600) => t.set(p, { kind: 'file', size, mode, modified: NOW - ago });
  ['/', '/home', home, '/etc', '/var', '/var/log', '/tmp'].forEach((p) => dir(p));
  dir(`${home}/.ssh`, 0o700);
  dir(`${home}/app`);
  dir(`${home}/logs`);
  file(`${home}/.bashrc`, 231);
  file(`${home}/.ssh/authorized_keys`, 0, 0o600);
  file(`${home}/deploy.sh`, 1840, 0o755, 86_400 * 12);
  file(`${home}/notes.md`, 5120);
  file(`${home}/Zürich Report 東京.pdf`, 2_411_724, 0o644, 86_400 * 40);
  t.set(`${home}/current`, { kind: 'symlink', size: 12, mode: 0o777, modified: NOW - 600 });
  for (let i = 1; i <= 30; i++) file(`${home}/logs/app-2026-11-${String(i).padStart(2, '0')}.log`, 40_000 + i * 913, 0o640, 86_400 * (31 - i));
  for (let i = 0; i < extra; i++) file(`${home}/logs/bulk-${String(i).padStart(6, '0')}.log`, i * 17, 0o640, i);
  file('/etc/hostname', 14);
  file('/etc/nginx.conf', 2_734);
  file('/var/log/syslog', 18_400_000, 0o640, 20);
  return t;
}

/** `extra`: filler files in ~/logs (a big folder, for scrolling). */
export function createMockFiles(opts: MockFilesOptions, extra = 0): MockFiles {
  const trees = new Map<string, Tree>();
  const open = new Map<number, { instanceId: string; onDrop: (d: DroppedFiles) => void }>();
  const running = new Map<number, { cancelled: boolean; onUpdate: (u: TransferUpdate) => void }>();
  let nextTransfer = 1;
  let nextDrop = 1;
  let dropped: { id: number; files: Array<{ name: string; size: number }> } | null = null;

  const treeOf = (instanceId: string, user = 'ec2-user'): Tree => {
    let t = trees.get(instanceId);
    if (!t) { t = seed(user, extra); trees.set(instanceId, t); }
    return t;
  };
  const session = (id: number): Tree => {
    const s = open.get(id);
    if (!s) throw fail('invalid_input', `no Files session for session ${id}`, 'Open the Files panel of a connected tab.');
    return treeOf(s.instanceId);
  };
  const exists = (t: Tree, p: string) => {
    const n = t.get(p);
    if (!n) throw fail('file_not_found', `${p}: No such file`);
    return n;
  };
  // As a server that lets the user write only under /home and /tmp.
  const writable = (p: string) => p.startsWith('/home/') || p.startsWith('/tmp/');
  const denied = (p: string) => fail('file_permission_denied', `${p}: Permission denied`, 'The remote user may not write there; pick a folder it owns.');

  async function run(id: number, files: Array<{ name: string; size: number; to: string }>, t: Tree | null) {
    const r = running.get(id)!;
    let failed = 0;
    let bytes = 0;
    for (const [i, f] of files.entries()) {
      if (r.cancelled) return;
      r.onUpdate({ type: 'file', event: { type: 'file_started', file: i, path: f.name, dest: f.to, size: f.size } });
      if (t && !writable(f.to)) {
        failed++;
        r.onUpdate({ type: 'file', event: { type: 'file_failed', file: i, error: denied(parentOf(f.to)) } });
        continue;
      }
      for (let done = 0; done < f.size;) {
        await opts.tick();
        if (r.cancelled) return;
        done = Math.min(f.size, done + 4 * 1024 * 1024); // 40 MB/s at the mock's pace
        r.onUpdate({ type: 'file', event: { type: 'progress', file: i, bytes: done } });
      }
      bytes += f.size;
      t?.set(f.to, { kind: 'file', size: f.size, mode: 0o644, modified: Math.floor(Date.now() / 1000) });
      r.onUpdate({ type: 'file', event: { type: 'file_done', file: i } });
    }
    running.delete(id);
    r.onUpdate({ type: 'finished', files: files.length, bytes, failed });
  }

  function start(direction: TransferStarted['direction'], files: Array<{ name: string; size: number; to: string }>,
    dest: string, t: Tree | null, onUpdate: (u: TransferUpdate) => void): TransferStarted {
    const id = nextTransfer++;
    const started: TransferStarted = { id, direction, names: files.map((f) => f.name), dest };
    running.set(id, { cancelled: false, onUpdate });
    setTimeout(() => void run(id, files, t), 0);
    return started;
  }

  const mock: MockFiles = {
    nextPick: undefined,
    nextFolder: undefined,
    open,
    treeOf: (id) => treeOf(id),
    drop(files, x, y) {
      dropped = { id: nextDrop++, files };
      const notice: DroppedFiles = { drop: dropped.id, names: files.map((f) => f.name), x, y };
      for (const s of open.values()) s.onDrop(notice);
    },
    async filesOpen(id, onDrop) {
      const s = opts.sessionOf(id);
      if (!s) throw fail('connection_lost', 'the session is not connected', 'Reconnect the tab, then open its files again.');
      await opts.delay(80);
      treeOf(s.instanceId, s.osUser);
      open.set(id, { instanceId: s.instanceId, onDrop });
      return `/home/${s.osUser}`;
    },
    async filesClose(id) {
      open.delete(id);
    },
    async filesList(id, dir) {
      const t = session(id);
      await opts.delay(60);
      const n = exists(t, dir);
      if (n.kind !== 'dir') throw fail('io', `${dir}: Not a directory`);
      const out: RemoteEntry[] = [];
      for (const [p, node] of t) {
        if (p !== '/' && parentOf(p) === dir) out.push({ name: baseName(p), path: p, kind: node.kind, size: node.size, modified: node.modified, mode: node.mode });
      }
      return out;
    },
    async filesMkdir(id, path) {
      const t = session(id);
      if (t.has(path)) throw fail('io', `${path}: File exists`);
      if (!writable(path)) throw denied(parentOf(path));
      t.set(path, { kind: 'dir', size: 4096, mode: 0o755, modified: Math.floor(Date.now() / 1000) });
    },
    async filesRename(id, from, to) {
      const t = session(id);
      exists(t, from);
      if (t.has(to)) throw fail('io', `${to}: File exists`);
      if (!writable(from) || !writable(to)) throw denied(parentOf(to));
      for (const [p, node] of [...t]) {
        if (p === from || p.startsWith(`${from}/`)) { t.delete(p); t.set(to + p.slice(from.length), node); }
      }
    },
    async filesDelete(id, path, recursive) {
      const t = session(id);
      const n = exists(t, path);
      if (!writable(path)) throw denied(parentOf(path));
      const inside = [...t.keys()].filter((p) => p.startsWith(`${path}/`));
      if (n.kind === 'dir' && inside.length && !recursive) throw fail('io', `${path}: Directory not empty`);
      inside.forEach((p) => t.delete(p));
      t.delete(path);
    },
    async filesUpload(id, dir, onUpdate) {
      const t = session(id);
      await opts.delay(300); // the user picking
      const picked = mock.nextPick === undefined ? [{ name: 'report-2026-11.csv', size: 2_400_000 }, { name: 'deploy.tar.gz', size: 48_000_000 }] : mock.nextPick;
      mock.nextPick = undefined;
      if (!picked) return null;
      return start('upload', picked.map((f) => ({ ...f, to: joinPath(dir, f.name) })), dir, t, onUpdate);
    },
    async filesUploadDropped(id, drop, dir, onUpdate) {
      const t = session(id);
      if (!dropped || dropped.id !== drop) {
        throw fail('invalid_input', 'those dropped files are no longer waiting to be uploaded', 'Drop the files onto the Files panel again.');
      }
      const files = dropped.files;
      dropped = null;
      return start('upload', files.map((f) => ({ ...f, to: joinPath(dir, f.name) })), dir, t, onUpdate);
    },
    async filesDownload(id, paths, onUpdate) {
      const t = session(id);
      await opts.delay(300);
      const folder = mock.nextFolder === undefined ? '/home/me/Downloads' : mock.nextFolder;
      mock.nextFolder = undefined;
      if (folder === null) return null;
      const files = paths.map((p) => ({ name: baseName(p), size: exists(t, p).size, to: joinPath(folder, baseName(p)) }));
      return start('download', files, folder, null, onUpdate);
    },
    async filesCancel(id, transfer) {
      session(id);
      const r = running.get(transfer);
      if (!r) return;
      r.cancelled = true;
      running.delete(transfer);
      r.onUpdate({ type: 'cancelled' });
    },
  };
  return mock;
}
