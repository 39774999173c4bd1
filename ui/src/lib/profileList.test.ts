import { describe, expect, it } from 'vitest';
import type { Instance, Profile } from '../generated/bindings';
import {
  checkName, checkRegion, checkTarget, connectRequestFor, duplicateName, duplicateProfile, EMPTY_FORM,
  formFromProfile, groupNames, groupProfiles, instanceBadge, matchesSearch, parseTarget,
  profileFromForm, profileFromInstance, recentProfiles, searchProfiles, validateForm,
} from './profileList';

const p = (name: string, extra: Partial<Profile> = {}): Profile => ({ name, target: 'i-0123456789abcdef0', ...extra });

const inst = (extra: Partial<Instance> = {}): Instance => ({
  instance_id: 'i-0123456789abcdef0', name: 'web-1', state: 'running', region: 'us-east-1',
  availability_zone: 'us-east-1a', private_ip: '10.0.0.1', public_ip: null, ipv6: null, vpc_id: null,
  subnet_id: null, instance_type: 't3.micro', platform: 'Linux/UNIX', launch_time: null,
  metadata_endpoint: 'enabled', tags: {}, ...extra,
});

describe('groupProfiles', () => {
  it('puts named groups A–Z first, ungrouped last, names A–Z inside', () => {
    const g = groupProfiles([p('b'), p('z', { group: 'prod' }), p('A'), p('a', { group: 'prod' }), p('x', { group: 'data' })]);
    expect(g.map((x) => x.name)).toEqual(['data', 'prod', null]);
    expect(g[1]!.profiles.map((x) => x.name)).toEqual(['a', 'z']);
    expect(g[2]!.profiles.map((x) => x.name)).toEqual(['A', 'b']);
  });
  it('keeps an empty ungrouped entry only when asked (a drop target)', () => {
    expect(groupProfiles([p('a', { group: 'g' })]).map((x) => x.name)).toEqual(['g']);
    expect(groupProfiles([p('a', { group: 'g' })], true).map((x) => x.name)).toEqual(['g', null]);
    expect(groupProfiles([])).toEqual([]);
  });
  it('lists distinct group names', () => {
    expect(groupNames([p('a', { group: 'prod' }), p('b', { group: 'data' }), p('c', { group: 'prod' }), p('d')])).toEqual(['data', 'prod']);
  });
});

describe('search', () => {
  const db = p('db-old', { group: 'Data', target: 'Env=prod,Role=db', notes: 'Primary replica', region: 'eu-west-1', aws_profile: 'admin-prod' });
  it('matches name, group, target, notes, region and AWS profile, case-insensitively', () => {
    for (const q of ['db-old', 'data', 'ROLE=DB', 'replica', 'eu-west', 'admin-prod', '']) expect(matchesSearch(db, q), q).toBe(true);
    expect(matchesSearch(db, 'staging')).toBe(false);
  });
  it('needs every word to match somewhere', () => {
    expect(matchesSearch(db, 'data eu-west')).toBe(true);
    expect(matchesSearch(db, 'data us-east')).toBe(false);
    expect(searchProfiles([db, p('web')], 'web').map((x) => x.name)).toEqual(['web']);
  });
});

describe('recentProfiles', () => {
  it('takes the 5 newest with a last_used', () => {
    const list = [0, 1, 2, 3, 4, 5, 6].map((i) => p(`p${i}`, { last_used: `2026-01-0${i + 1}T10:00:00Z` }));
    list.push(p('never'), p('bad', { last_used: 'garbage' }));
    expect(recentProfiles(list).map((x) => x.name)).toEqual(['p6', 'p5', 'p4', 'p3', 'p2']);
    expect(recentProfiles([p('never')])).toEqual([]);
  });
});

describe('duplicateName', () => {
  it('counts up copies', () => {
    expect(duplicateName('web', ['web'])).toBe('web (copy)');
    expect(duplicateName('web', ['web', 'web (copy)'])).toBe('web (copy 2)');
    expect(duplicateName('web', ['web', 'web (copy)', 'web (copy 2)'])).toBe('web (copy 3)');
  });
  it('duplicating a copy counts on from its base', () => {
    expect(duplicateName('web (copy)', ['web', 'web (copy)'])).toBe('web (copy 2)');
    expect(duplicateName('web (copy 2)', ['web', 'web (copy)', 'web (copy 2)'])).toBe('web (copy 3)');
  });
  it('stays within 64 characters', () => {
    const long = 'x'.repeat(64);
    const d = duplicateName(long, [long]);
    expect([...d].length).toBe(64);
    expect(d.endsWith(' (copy)')).toBe(true);
    expect(checkName(d)).toBeNull();
  });
  it('a duplicated profile has no last_used', () => {
    const d = duplicateProfile(p('a', { last_used: '2026-01-01T00:00:00Z', group: 'g' }), ['a']);
    expect(d).toMatchObject({ name: 'a (copy)', group: 'g', last_used: null });
  });
});

describe('checks mirror model.rs / target.rs', () => {
  it('names', () => {
    expect(checkName('web prod')).toBeNull();
    expect(checkName('é'.repeat(64))).toBeNull();
    for (const bad of ['', 'x'.repeat(65), '@web', '-web', ' web', 'web ', 'a\tb']) expect(checkName(bad), bad).not.toBeNull();
  });
  it('targets', () => {
    expect(parseTarget('i-0123456789abcdef0')).toEqual({ ok: { kind: 'id', id: 'i-0123456789abcdef0' } });
    expect(parseTarget('web')).toEqual({ ok: { kind: 'tags', tags: [['Name', 'web']] } });
    expect(parseTarget('Env=prod, Role=api')).toEqual({ ok: { kind: 'tags', tags: [['Env', 'prod'], ['Role', 'api']] } });
    expect(checkTarget('Name=')).toBeNull();
    expect(checkTarget('i-am-a-name')).toBeNull();
    for (const bad of ['', '  ', '=x', 'Env=prod,Role', 'Env=a,Env=b', 'i-0ABC123456', 'a,b', 'i-123']) {
      expect(checkTarget(bad), bad).not.toBeNull();
    }
    expect(checkTarget('Env=prod,Role')).toContain('Role');
  });
  it('regions', () => {
    for (const ok of ['us-east-1', 'eu-west-1', 'us-gov-west-1', '']) expect(checkRegion(ok), ok).toBeNull();
    for (const bad of ['us-east', 'US-EAST-1', 'useast1', 'us--1', 'us-east-x']) expect(checkRegion(bad), bad).not.toBeNull();
  });
});

describe('the editor form', () => {
  const full: Profile = {
    name: 'db', group: 'data', target: 'Env=prod,Role=db', aws_profile: 'admin-prod', region: 'eu-west-1',
    user: 'ubuntu', port: 2222, via: 'eice', max_tunnel_duration: 1800, notes: 'hi', last_used: '2026-01-01T00:00:00Z',
  };
  it('round-trips a profile', () => {
    expect(profileFromForm(formFromProfile(full), full.last_used)).toEqual(full);
  });
  it('empty fields become null, text is trimmed, tag pairs tidied', () => {
    const f = { ...EMPTY_FORM, name: ' web ', target: ' Env = prod , Role=web ', port: '' };
    expect(profileFromForm(f)).toEqual({
      name: 'web', group: null, target: 'Env=prod,Role=web', aws_profile: null, region: null,
      user: null, port: null, via: null, max_tunnel_duration: null, notes: null, last_used: null,
    });
  });
  it('reports each bad field', () => {
    const errs = validateForm({
      ...EMPTY_FORM, name: '@x', target: 'Env=', region: 'mars', user: 'a b', port: '0', group: 'g'.repeat(65), max_tunnel_duration: '3601',
    }, []);
    expect(Object.keys(errs).sort()).toEqual(['group', 'max_tunnel_duration', 'name', 'port', 'region', 'user']);
    expect(validateForm({ ...EMPTY_FORM, name: 'x', target: 'web', max_tunnel_duration: '900' }, []).max_tunnel_duration).toBeUndefined();
    expect(validateForm({ ...EMPTY_FORM, name: 'x', target: '' }, []).target).toBeTruthy();
    expect(validateForm({ ...EMPTY_FORM, name: 'x', target: 'web', notes: 'n'.repeat(4097) }, []).notes).toBeTruthy();
  });
  it('a taken name is an error, except the edited profile keeping its name', () => {
    const f = { ...EMPTY_FORM, name: 'web', target: 'web' };
    expect(validateForm(f, ['web', 'db']).name).toContain('already exists');
    expect(validateForm(f, ['web', 'db'], 'web')).toEqual({});
    expect(validateForm({ ...f, name: 'db' }, ['web', 'db'], 'web').name).toBeTruthy();
  });
});

describe('instances and profiles', () => {
  it('prefills from an instance (and the tab it was saved from)', () => {
    expect(profileFromInstance(inst(), 'admin-prod', [])).toMatchObject({
      name: 'web-1', target: 'i-0123456789abcdef0', region: 'us-east-1', aws_profile: 'admin-prod', user: null,
    });
    expect(profileFromInstance(inst({ name: null }), null, []).name).toBe('i-0123456789abcdef0');
    expect(profileFromInstance(inst({ name: '' }), null, []).name).toBe('i-0123456789abcdef0');
    expect(profileFromInstance(inst(), null, ['web-1']).name).toBe('web-1 (copy)');
    expect(profileFromInstance(inst(), null, [], { os_user: 'ubuntu', port: 2222, via: 'public' }))
      .toMatchObject({ user: 'ubuntu', port: 2222, via: 'public' });
    expect(checkName(profileFromInstance(inst({ name: '-weird' }), null, []).name)).toBeNull();
  });
  it('builds the connect request with defaults for unset fields', () => {
    const d = { osUser: () => 'ec2-user', port: 22 };
    expect(connectRequestFor(p('a'), inst(), d)).toMatchObject({ os_user: 'ec2-user', port: 22, via: 'private' });
    expect(connectRequestFor(p('a'), inst({ private_ip: null, public_ip: '1.2.3.4' }), d).via).toBe('public');
    expect(connectRequestFor(p('a', { user: 'admin', port: 2200, via: 'auto' }), inst(), d))
      .toMatchObject({ os_user: 'admin', port: 2200, via: 'auto' });
  });
  it('badges an id target whose instance is loaded and not running', () => {
    const list = [inst({ state: 'stopped' })];
    expect(instanceBadge(p('a'), list)).toBe('stopped');
    expect(instanceBadge(p('a', { region: 'eu-west-1' }), list)).toBeNull();
    expect(instanceBadge(p('a'), [inst()])).toBeNull();
    expect(instanceBadge(p('a'), [])).toBeNull();
    expect(instanceBadge(p('a', { target: 'Name=web-1' }), list)).toBeNull();
    expect(instanceBadge(p('a'), [], () => true)).toBe('not found');
    expect(instanceBadge(p('a'), [], () => false)).toBeNull();
    expect(instanceBadge(p('a', { target: 'Name=x' }), [], () => true)).toBeNull();
  });
});
