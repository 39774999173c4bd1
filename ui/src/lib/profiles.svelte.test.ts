// ProfilesState against the browser mock backend (its seeded profiles: web-1, web (any), batch,
// bastion; batch's instance is stopped, "web (any)" matches two running instances).
import { describe, expect, it, vi } from 'vitest';
import type { ApiError } from '../generated/bindings';
import type { SessionOrigin } from './backend';
import { ProfilesState, type ProfilesHost } from './profiles.svelte';
import type { SessionTab } from './session.svelte';
import type { TabRequest } from './tabRequest';

function setup(recover: (p: string | null, e: ApiError) => Promise<boolean> = async () => false) {
  const opened: Array<{ request: TabRequest; origin?: SessionOrigin }> = [];
  const host: ProfilesHost = {
    info: { version: '0', lab: false, aws_profile: null, default_regions: [], default_port: 2222, e2e: false, offer_lab: false },
    awsProfile: null,
    tabs: [],
    identity: { recover: vi.fn(recover), awsProfiles: [] },
    openTab(request, origin) { opened.push({ request, origin }); return {} as SessionTab; },
  };
  return { ps: new ProfilesState(host), host, opened };
}

describe('ProfilesState', () => {
  it('loads, saves, duplicates, deletes and undoes', async () => {
    const { ps } = setup();
    await ps.load();
    expect(ps.loadError).toBeNull();
    expect(ps.list.map((p) => p.name)).toContain('web-1');

    await ps.save(null, { name: 'extra', target: 'Name=web-*', group: 'tmp' });
    expect(ps.find('extra')?.group).toBe('tmp');
    await expect(ps.save(null, { name: 'extra', target: 'web' })).rejects.toMatchObject({ kind: 'invalid_input' });

    await ps.duplicate('extra');
    await ps.duplicate('extra');
    expect(ps.list.map((p) => p.name)).toEqual(expect.arrayContaining(['extra (copy)', 'extra (copy 2)']));

    await ps.moveToGroup('extra', null);
    expect(ps.find('extra')?.group ?? null).toBeNull();

    await ps.remove('extra');
    expect(ps.find('extra')).toBeUndefined();
    expect(ps.undo?.profile.name).toBe('extra');
    await ps.undoDelete();
    expect(ps.find('extra')).toBeDefined();
    expect(ps.undo).toBeNull();
  });

  it('one match opens a tab with the profile\'s settings and origin', async () => {
    const { ps, opened } = setup();
    await ps.load();
    await ps.connect('bastion');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.origin).toEqual({ awsProfile: 'admin-prod', profile: 'bastion' });
    expect(opened[0]!.request).toMatchObject({ os_user: 'admin', port: 2222, via: 'private' });
    expect(ps.busy).toBeNull();
  });

  it('a stopped instance is reported on the profile, nothing opens', async () => {
    const { ps, opened } = setup();
    await ps.load();
    await ps.connect('batch');
    expect(opened).toHaveLength(0);
    expect(ps.errors.batch).toMatchObject({ kind: 'instance_not_running' });
    expect(ps.errors.batch!.message).toContain('stopped');
    ps.dismissError('batch');
    expect(ps.errors.batch).toBeUndefined();
  });

  it('several matches open the picker; the pick opens the tab', async () => {
    const { ps, opened } = setup();
    await ps.load();
    await ps.connect('web (any)');
    expect(opened).toHaveLength(0);
    expect(ps.picker?.candidates.map((i) => i.name)).toEqual(['web-1', 'web-2']);
    ps.pick(ps.picker!.candidates[1]!);
    expect(ps.picker).toBeNull();
    expect(opened[0]!.request.instance.name).toBe('web-2');
    expect(opened[0]!.origin?.profile).toBe('web (any)');
  });

  it('missing credentials ask the identity state to recover, then show the error if that fails', async () => {
    const { ps, host, opened } = setup(async () => false);
    await ps.load();
    await ps.save(null, { name: 'stg', target: 'i-0f9e8d7c6b5a40001', aws_profile: 'staging', region: 'eu-west-1' });
    await ps.connect('stg');
    expect(host.identity!.recover).toHaveBeenCalledWith('staging', expect.objectContaining({ kind: 'credentials' }));
    expect(ps.errors.stg).toMatchObject({ kind: 'credentials' });
    expect(opened).toHaveLength(0);
  });
});
