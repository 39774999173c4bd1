import { describe, expect, it } from 'vitest';
import type { Instance } from '../generated/bindings';
import { ipv4Number, nextSort, sortInstances } from './sort';

function inst(id: string, p: Partial<Instance> = {}): Instance {
  return {
    instance_id: id, name: null, state: 'running', region: 'us-east-1', availability_zone: null, private_ip: null,
    public_ip: null, ipv6: null, vpc_id: null, subnet_id: null, instance_type: null, platform: null,
    launch_time: null, metadata_endpoint: null, tags: {}, ...p,
  };
}

const list = [
  inst('i-3', { name: 'web-10', private_ip: '10.0.0.10', public_ip: '3.3.3.3', launch_time: '2026-01-02T00:00:00Z', state: 'stopped' }),
  inst('i-1', { name: 'web-2', private_ip: '10.0.0.9', launch_time: '2026-03-01T00:00:00Z' }),
  inst('i-2', { name: null, private_ip: '9.0.0.1', public_ip: '1.1.1.1' }),
  inst('i-4', { name: '', private_ip: null, launch_time: '2025-12-31T00:00:00Z', state: 'pending' }),
  inst('i-5', { name: 'Alpha', private_ip: '10.0.0.9' }),
];
const order = (l: Instance[]) => l.map((i) => i.instance_id);

describe('sortInstances', () => {
  it('sorts names naturally, case-insensitively, null/empty names last in both directions', () => {
    expect(order(sortInstances(list, { key: 'name', dir: 'asc' }))).toEqual(['i-5', 'i-1', 'i-3', 'i-2', 'i-4']);
    expect(order(sortInstances(list, { key: 'name', dir: 'desc' }))).toEqual(['i-3', 'i-1', 'i-5', 'i-2', 'i-4']);
  });

  it('sorts IPs numerically with nulls last', () => {
    expect(order(sortInstances(list, { key: 'private_ip', dir: 'asc' }))).toEqual(['i-2', 'i-5', 'i-1', 'i-3', 'i-4']);
    expect(order(sortInstances(list, { key: 'private_ip', dir: 'desc' }))).toEqual(['i-3', 'i-5', 'i-1', 'i-2', 'i-4']);
    const pub = order(sortInstances(list, { key: 'public_ip', dir: 'desc' }));
    expect(pub.slice(0, 2)).toEqual(['i-3', 'i-2']);
  });

  it('sorts launch time as dates with nulls last', () => {
    expect(order(sortInstances(list, { key: 'launch_time', dir: 'desc' })).slice(0, 3)).toEqual(['i-1', 'i-3', 'i-4']);
    expect(order(sortInstances(list, { key: 'launch_time', dir: 'asc' })).slice(0, 3)).toEqual(['i-4', 'i-3', 'i-1']);
  });

  it('sorts states by lifecycle, ties by name', () => {
    expect(order(sortInstances(list, { key: 'state', dir: 'asc' }))).toEqual(['i-5', 'i-1', 'i-2', 'i-4', 'i-3']);
  });

  it('is stable on equal rows and does not mutate its input', () => {
    const copy = [...list];
    sortInstances(list, { key: 'region', dir: 'asc' });
    expect(list).toEqual(copy);
  });

  it('ipv4Number', () => {
    expect(ipv4Number('10.0.0.10')! > ipv4Number('10.0.0.9')!).toBe(true);
    expect(ipv4Number('fe80::1')).toBeNull();
  });

  it('nextSort flips the same column and starts launch time newest first', () => {
    expect(nextSort({ key: 'name', dir: 'asc' }, 'name')).toEqual({ key: 'name', dir: 'desc' });
    expect(nextSort({ key: 'name', dir: 'asc' }, 'region')).toEqual({ key: 'region', dir: 'asc' });
    expect(nextSort({ key: 'name', dir: 'asc' }, 'launch_time')).toEqual({ key: 'launch_time', dir: 'desc' });
  });
});
