import { describe, expect, it } from 'vitest';
import type { ApiError } from '../generated/bindings';
import { applyUpdate, fraction, newTransfer, summary } from './transfers';

const denied: ApiError = { kind: 'io', message: 'Permission denied', hint: null, fix: null };

describe('a transfer built from its updates', () => {
  it('follows each file to the end, with a rate and the whole transfer done', () => {
    const t = newTransfer({ id: 1, direction: 'upload', names: ['a.bin', 'b.bin'], dest: '/srv' });
    applyUpdate(t, { type: 'file', event: { type: 'file_started', file: 0, path: '/tmp/x/a.bin', dest: '/dest', size: 1000 } }, 0);
    applyUpdate(t, { type: 'file', event: { type: 'progress', file: 0, bytes: 500 } }, 500);
    expect(t.files[0]).toMatchObject({ name: 'a.bin', bytes: 500, state: 'running' });
    expect(t.rate).toBe(1000);
    expect(fraction(t)).toBe(0.5);
    applyUpdate(t, { type: 'file', event: { type: 'file_done', file: 0 } }, 1000);
    applyUpdate(t, { type: 'file', event: { type: 'file_started', file: 1, path: '/tmp/x/b.bin', dest: '/dest', size: 1000 } }, 1000);
    expect(summary(t)).toBe('1 of 2 files');
    applyUpdate(t, { type: 'file', event: { type: 'file_done', file: 1 } }, 1500);
    applyUpdate(t, { type: 'finished', files: 2, bytes: 2000, failed: 0 }, 1500);
    expect(t.state).toBe('done');
    expect(t.bytes).toBe(2000);
    expect(t.rate).toBeNull();
    expect(fraction(t)).toBe(1);
    expect(summary(t)).toBe('Done · 2 of 2 files');
  });

  it('keeps each failed file with its own error and counts it', () => {
    const t = newTransfer({ id: 2, direction: 'download', names: ['a', 'b'], dest: 'Downloads' });
    applyUpdate(t, { type: 'file', event: { type: 'file_started', file: 0, path: '/etc/a', dest: '/dest', size: 10 } }, 0);
    applyUpdate(t, { type: 'file', event: { type: 'file_failed', file: 0, error: denied } }, 1);
    applyUpdate(t, { type: 'file', event: { type: 'file_started', file: 1, path: '/etc/b', dest: '/dest', size: 10 } }, 2);
    applyUpdate(t, { type: 'file', event: { type: 'file_done', file: 1 } }, 3);
    applyUpdate(t, { type: 'finished', files: 2, bytes: 10, failed: 1 }, 4);
    expect(t.state).toBe('failed');
    expect(t.files[0]!.error).toEqual(denied);
    expect(summary(t)).toBe('1 of 2 files · 1 failed');
  });

  it('a transfer that could not run at all, or was cancelled, says so', () => {
    const t = newTransfer({ id: 3, direction: 'upload', names: ['a'], dest: '/ro' });
    applyUpdate(t, { type: 'failed', error: denied }, 0);
    expect([t.state, t.error, summary(t)]).toEqual(['failed', denied, 'Failed']);
    const c = newTransfer({ id: 4, direction: 'upload', names: ['a'], dest: '/x' });
    applyUpdate(c, { type: 'cancelled' }, 0);
    expect(summary(c)).toBe('Cancelled · 0 of 1 file');
  });

  it('never goes backwards on a late progress', () => {
    const t = newTransfer({ id: 5, direction: 'upload', names: ['a'], dest: '/x' });
    applyUpdate(t, { type: 'file', event: { type: 'file_started', file: 0, path: 'a', dest: '/dest', size: 100 } }, 0);
    applyUpdate(t, { type: 'file', event: { type: 'progress', file: 0, bytes: 80 } }, 10);
    applyUpdate(t, { type: 'file', event: { type: 'progress', file: 0, bytes: 40 } }, 20);
    expect(t.bytes).toBe(80);
  });
});
