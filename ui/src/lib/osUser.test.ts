import { describe, expect, it } from 'vitest';
import { defaultOsUser, defaultVia, osUserFor, rememberOsUser, rememberVia, validOsUser, validPort, viaFor, viaOptions, type KeyValueStore } from './osUser';

function memory(): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

describe('default OS user', () => {
  it('follows the platform', () => {
    expect(defaultOsUser('Ubuntu Pro')).toBe('ubuntu');
    expect(defaultOsUser('ubuntu')).toBe('ubuntu');
    expect(defaultOsUser('Debian')).toBe('admin');
    expect(defaultOsUser('Linux/UNIX')).toBe('ec2-user');
    expect(defaultOsUser('Red Hat Enterprise Linux')).toBe('ec2-user');
    expect(defaultOsUser(null)).toBe('ec2-user');
  });

  it('is remembered per instance id', () => {
    const store = memory();
    const a = { instance_id: 'i-a', platform: 'Ubuntu Pro' };
    const b = { instance_id: 'i-b', platform: 'Ubuntu Pro' };
    expect(osUserFor(a, store)).toBe('ubuntu');
    rememberOsUser('i-a', ' deploy ', store);
    expect(osUserFor(a, store)).toBe('deploy');
    expect(osUserFor(b, store)).toBe('ubuntu');
    expect(osUserFor(a, null)).toBe('ubuntu');
  });

  it('survives a storage that throws', () => {
    const broken: KeyValueStore = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); } };
    expect(osUserFor({ instance_id: 'i-x', platform: 'Debian' }, broken)).toBe('admin');
    expect(() => rememberOsUser('i-x', 'u', broken)).not.toThrow();
  });
});

describe('address choices', () => {
  it('disables what the instance lacks and defaults to private', () => {
    expect(viaOptions({ private_ip: '10.0.0.1', public_ip: null })).toEqual({ private: true, public: false, eice: true, auto: true });
    expect(viaOptions({ private_ip: null, public_ip: null })).toEqual({ private: false, public: false, eice: false, auto: false });
    expect(defaultVia({ private_ip: '10.0.0.1', public_ip: '1.1.1.1' })).toBe('private');
    expect(defaultVia({ private_ip: null, public_ip: '1.1.1.1' })).toBe('public');
  });
});

it('validates users and ports like keyless-core', () => {
  expect(validOsUser('ec2-user')).toBe(true);
  expect(validOsUser('-rf')).toBe(false);
  expect(validOsUser('a b')).toBe(false);
  expect(validOsUser('x'.repeat(33))).toBe(false);
  expect(validPort(22)).toBe(true);
  expect(validPort(0)).toBe(false);
  expect(validPort(65536)).toBe(false);
  expect(validPort(2.5)).toBe(false);
});

describe('remembered address choice', () => {
  const inst = { instance_id: 'i-0123456789abcdef0', private_ip: '10.0.0.5', public_ip: null };
  it('comes back for the same instance, and only a choice the instance allows', () => {
    const store = memory();
    expect(viaFor(inst, store)).toBe('private');
    rememberVia(inst.instance_id, 'auto', store);
    expect(viaFor(inst, store)).toBe('auto');
    expect(viaFor({ ...inst, instance_id: 'i-0fedcba9876543210' }, store)).toBe('private');
    rememberVia(inst.instance_id, 'public', store);
    expect(viaFor(inst, store)).toBe('private');
    store.map.set(`keyless.via.${inst.instance_id}`, 'sideways');
    expect(viaFor(inst, store)).toBe('private');
  });
});
