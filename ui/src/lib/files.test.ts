import { describe, expect, it } from 'vitest';
import type { RemoteEntry } from '../generated/bindings';
import {
  baseName, crumbs, formatMode, formatRate, formatSize, joinPath, nameProblem, nextFileSort, parentOf, visibleEntries,
} from './files';

const entry = (name: string, kind: RemoteEntry['kind'], size = 0, modified: number | null = 0, mode = 0o644): RemoteEntry =>
  ({ name, path: `/d/${name}`, kind, size, modified, mode });

describe('remote paths', () => {
  it('goes up to the root and no further', () => {
    expect(parentOf('/home/ec2-user/logs')).toBe('/home/ec2-user');
    expect(parentOf('/home/')).toBe('/');
    expect(parentOf('/etc')).toBe('/');
    expect(parentOf('/')).toBe('/');
  });
  it('joins without doubling the slash', () => {
    expect(joinPath('/', 'etc')).toBe('/etc');
    expect(joinPath('/home/u', 'a b')).toBe('/home/u/a b');
  });
  it('makes a crumb per segment, each leading to its own path', () => {
    expect(crumbs('/var/log/nginx')).toEqual([
      { name: '/', path: '/' }, { name: 'var', path: '/var' }, { name: 'log', path: '/var/log' }, { name: 'nginx', path: '/var/log/nginx' },
    ]);
    expect(crumbs('/')).toEqual([{ name: '/', path: '/' }]);
  });
  it('names the last segment of local and remote paths', () => {
    expect(baseName('/tmp/up/report.csv')).toBe('report.csv');
    expect(baseName('C:\\Users\\me\\notes.txt')).toBe('notes.txt');
    expect(baseName('/tmp/dir/')).toBe('dir');
  });
  it('refuses names that would leave the folder', () => {
    expect(nameProblem('ok name.txt')).toBeNull();
    expect(nameProblem('Zürich-東京')).toBeNull();
    expect(nameProblem('a/b')).toMatch('/');
    expect(nameProblem('..')).not.toBeNull();
    expect(nameProblem('  ')).not.toBeNull();
  });
});

describe('the listing', () => {
  const list = [
    entry('b.txt', 'file', 10, 300), entry('.bashrc', 'file', 5, 100), entry('logs', 'dir', 4096, 200),
    entry('a10.txt', 'file', 2000, 100), entry('a9.txt', 'file', 30, 400), entry('.ssh', 'dir', 4096, 50, 0o700),
    entry('link', 'symlink', 7, null, 0o777),
  ];
  it('shows folders first, names in natural order, hidden entries only when asked', () => {
    const names = (s: boolean) => visibleEntries(list, { key: 'name', dir: 'asc' }, s).map((e) => e.name);
    expect(names(false)).toEqual(['logs', 'a9.txt', 'a10.txt', 'b.txt', 'link']);
    expect(names(true)).toEqual(['.ssh', 'logs', '.bashrc', 'a9.txt', 'a10.txt', 'b.txt', 'link']);
  });
  it('sorts by size, date and mode, folders still first', () => {
    const by = (key: 'size' | 'modified' | 'mode', dir: 'asc' | 'desc') =>
      visibleEntries(list, { key, dir }, false).map((e) => e.name);
    expect(by('size', 'desc')).toEqual(['logs', 'a10.txt', 'a9.txt', 'b.txt', 'link']);
    expect(by('modified', 'asc')).toEqual(['logs', 'link', 'a10.txt', 'b.txt', 'a9.txt']);
    expect(by('mode', 'desc')[1]).toBe('link');
  });
  it('does not reorder what it was given', () => {
    const copy = [...list];
    visibleEntries(list, { key: 'size', dir: 'asc' }, true);
    expect(list).toEqual(copy);
  });
  it('flips the same column; dates and sizes start largest first', () => {
    expect(nextFileSort({ key: 'name', dir: 'asc' }, 'name')).toEqual({ key: 'name', dir: 'desc' });
    expect(nextFileSort({ key: 'name', dir: 'asc' }, 'modified')).toEqual({ key: 'modified', dir: 'desc' });
    expect(nextFileSort({ key: 'size', dir: 'desc' }, 'mode')).toEqual({ key: 'mode', dir: 'asc' });
  });
  it('sorts 100 000 entries', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => entry(`f${(i * 7919) % 100_000}`, 'file', i));
    const sorted = visibleEntries(big, { key: 'name', dir: 'asc' }, true);
    expect(sorted[0]!.name).toBe('f0');
    expect(sorted[99_999]!.name).toBe('f99999');
  });
});

describe('formats', () => {
  it('reads sizes in powers of 1024', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1536)).toBe('1.5 KB');
    expect(formatSize(50 * 1024 * 1024)).toBe('50 MB');
    expect(formatRate(2.5 * 1024 * 1024)).toBe('2.5 MB/s');
    expect(formatRate(null)).toBe('');
  });
  it('reads modes as ls does', () => {
    expect(formatMode('dir', 0o755)).toBe('drwxr-xr-x');
    expect(formatMode('file', 0o100644)).toBe('-rw-r--r--');
    expect(formatMode('symlink', 0o777)).toBe('lrwxrwxrwx');
    expect(formatMode('file', 0o4755)).toBe('-rwsr-xr-x');
    expect(formatMode('dir', 0o1777)).toBe('drwxrwxrwt');
    expect(formatMode('file', 0o2640)).toBe('-rw-r-S---');
  });
});
