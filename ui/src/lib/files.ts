// The Files panel's pure logic: remote paths, the listing's order and filter, and how sizes,
// modes and rates read. Remote paths are POSIX paths of the instance, whatever the local OS.
import type { EntryKind, RemoteEntry } from '../generated/bindings';

export type FileSortKey = 'name' | 'size' | 'modified' | 'mode';
export type FileSort = { key: FileSortKey; dir: 'asc' | 'desc' };

/** A name's natural-order key (case folded, digit runs padded: a9 < a10), compared with `<`:
 *  several times faster than a collator over a folder of 100 000 entries. */
function nameKey(name: string): string {
  return name.toLowerCase().replace(/\d+/g, (d) => d.replace(/^0+(?=\d)/, '').padStart(16, '0'));
}

/** The folder above `path` ('/' stays '/'). */
export function parentOf(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  const at = trimmed.lastIndexOf('/');
  if (at < 0) return '.';
  return at === 0 ? '/' : trimmed.slice(0, at);
}

/** `name` inside folder `dir`. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The path bar's segments: each with the path it leads to (the first is the root). */
export function crumbs(path: string): Array<{ name: string; path: string }> {
  const parts = path.split('/').filter(Boolean);
  const out = [{ name: '/', path: '/' }];
  let at = '';
  for (const p of parts) {
    at += `/${p}`;
    out.push({ name: p, path: at });
  }
  return out;
}

/** Why `name` cannot name a new folder or a rename target in one folder, or null when it can. */
export function nameProblem(name: string): string | null {
  if (name.trim() === '') return 'A name is needed.';
  if (name === '.' || name === '..') return `“${name}” is not a name of its own.`;
  if (name.includes('/')) return 'A name cannot contain “/”.';
  if (name.includes('\0')) return 'A name cannot contain a NUL character.';
  return null;
}

export const isHidden = (e: RemoteEntry): boolean => e.name.startsWith('.');

/** Folders (and links to them, which the server reports as links) first, then files. */
const group = (k: EntryKind): number => (k === 'dir' ? 0 : 1);

/** The listing as the panel shows it: hidden entries only when asked, folders first, sorted. */
export function visibleEntries(entries: readonly RemoteEntry[], sort: FileSort, showHidden: boolean): RemoteEntry[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const shown = showHidden ? entries : entries.filter((e) => !isHidden(e));
  const keyed = shown.map((e) => ({ e, k: nameKey(e.name), g: group(e.kind) }));
  keyed.sort((a, b) => {
    if (a.g !== b.g) return a.g - b.g;
    let c = 0;
    switch (sort.key) {
      case 'size': c = a.e.size - b.e.size; break;
      case 'modified': c = (a.e.modified ?? -Infinity) - (b.e.modified ?? -Infinity); break;
      case 'mode': c = (a.e.mode & 0o7777) - (b.e.mode & 0o7777); break;
      case 'name': break;
    }
    if (c === 0 || Number.isNaN(c)) c = a.k < b.k ? -1 : a.k > b.k ? 1 : a.e.name < b.e.name ? -1 : a.e.name > b.e.name ? 1 : 0;
    return c * sign;
  });
  return keyed.map((x) => x.e);
}

/** Clicking a header: the same column flips, another starts ascending (newest first for dates). */
export function nextFileSort(current: FileSort, key: FileSortKey): FileSort {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: key === 'modified' || key === 'size' ? 'desc' : 'asc' };
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** "0 B", "912 B", "1.5 KB", "23 MB" (powers of 1024, as ls -h and sftp). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
  if (u === 0) return `${v} B`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** "3.2 MB/s" ('' before there is a rate to show). */
export function formatRate(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null || !Number.isFinite(bytesPerSecond)) return '';
  return `${formatSize(Math.round(bytesPerSecond))}/s`;
}

/** `drwxr-xr-x` from the kind and the permission bits (setuid, setgid and sticky as ls shows them). */
export function formatMode(kind: EntryKind, mode: number): string {
  const type = kind === 'dir' ? 'd' : kind === 'symlink' ? 'l' : kind === 'other' ? '?' : '-';
  const bit = (m: number, c: string) => (mode & m ? c : '-');
  const special = (x: number, s: number, lower: string, upper: string) =>
    (mode & s ? (mode & x ? lower : upper) : bit(x, 'x'));
  return type
    + bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S')
    + bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S')
    + bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T');
}

/** "2026-11-20 14:03" in local time from unix seconds ('' when the server sent none). */
export function formatModified(unixSeconds: number | null): string {
  if (unixSeconds === null) return '';
  const d = new Date(unixSeconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The last segment of a path, local or remote ('/' and '\' both separate). */
export function baseName(path: string): string {
  const trimmed = path.replace(/[/\\]+$/, '');
  const at = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return at < 0 ? trimmed : trimmed.slice(at + 1) || path;
}
