import { describe, expect, it } from 'vitest';
import type { PoolEntry } from '../generated/bindings';
import { mockInstances } from './mockBackend';
import { channelsOn, poolKeyOf, sameKey, sharingText } from './sharing';

const web1 = mockInstances().find((i) => i.name === 'web-1')!;
const request = { instance: web1, os_user: 'ec2-user', port: 22, via: 'private' as const };

describe('shared connections', () => {
  it("a tab's pool key is its AWS profile and connect request", () => {
    expect(poolKeyOf('admin-prod', request)).toEqual({
      aws_profile: 'admin-prod', region: 'us-east-1', instance_id: web1.instance_id, os_user: 'ec2-user', port: 22, via: 'private',
    });
  });

  it('only the same profile, instance, user, port and path share', () => {
    const key = poolKeyOf(null, request);
    expect(sameKey(key, poolKeyOf(null, { ...request }))).toBe(true);
    for (const other of [
      poolKeyOf('staging', request),
      poolKeyOf(null, { ...request, os_user: 'ubuntu' }),
      poolKeyOf(null, { ...request, port: 2222 }),
      poolKeyOf(null, { ...request, via: 'public' }),
    ]) expect(sameKey(key, other)).toBe(false);
  });

  it("counts the tabs on a tab's connection from the backend's status", () => {
    const key = poolKeyOf(null, request);
    const entries: PoolEntry[] = [
      { ...key, os_user: 'root', address: '10.0.1.12', endpoint_id: null, channels: 5, idle: false },
      { ...key, address: '10.0.1.12', endpoint_id: null, channels: 2, idle: false },
    ];
    expect(channelsOn(entries, key)).toBe(2);
    expect(channelsOn([], key)).toBe(0);
  });

  it('says so only when the connection is shared', () => {
    expect(sharingText(0)).toBeNull();
    expect(sharingText(1)).toBeNull();
    expect(sharingText(2)).toBe('2 tabs share this connection');
    expect(sharingText(3)).toBe('3 tabs share this connection');
  });
});
