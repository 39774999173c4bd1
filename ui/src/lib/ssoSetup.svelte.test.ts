// SsoSetupState against the browser mock (mockSetup.ts: two accounts, two roles each, a sign-in
// approved by approveSetup(), the backend's refusals).
import { describe, expect, it } from 'vitest';
import type { ConfigWritten, Portal } from '../generated/bindings';
import { createMockBackend } from './mockBackend';
import { picksOf, SsoSetupState } from './ssoSetup.svelte';

async function until(what: string, f: () => unknown): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function fresh() {
  const mock = createMockBackend({ slow: 0, firstRun: true });
  const written: ConfigWritten[] = [];
  const setup = new SsoSetupState(mock, (w) => written.push(w));
  return { mock, setup, written };
}

describe('SsoSetupState', () => {
  it('signs in, lists the portal, writes the ticked roles under their names', async () => {
    const { mock, setup, written } = fresh();
    expect((await mock.awsProfiles()).setup_needed).toBe(true);
    setup.startUrl = ' https://my-org.awsapps.com/start ';
    setup.ssoRegion = 'eu-west-1';
    const signing = setup.signIn();
    await until('the device code', () => setup.step.step === 'sign-in' && setup.step.prompt);
    mock.setup.approveSetup();
    await signing;
    expect(setup.step.step).toBe('choose');
    expect(setup.picks.map((p) => [p.role_name, p.profile_name, p.keep])).toEqual([
      ['AdministratorAccess', 'AdministratorAccess-123456789012', false],
      ['ReadOnlyAccess', 'ReadOnlyAccess-123456789012', false],
      ['AdministratorAccess', 'AdministratorAccess-210987654321', false],
      ['PowerUserAccess', 'PowerUserAccess-210987654321', false],
    ]);
    expect(setup.region).toBe('eu-west-1');
    expect(setup.canFinish).toBe(false);
    setup.picks[3]!.keep = true;
    setup.picks[3]!.profile_name = ' staging-power ';
    expect(setup.canFinish).toBe(true);
    await setup.finish();
    expect(setup.step.step).toBe('done');
    expect(written.map((w) => w.profiles)).toEqual([['staging-power']]);
    const after = await mock.awsProfiles();
    expect(after.setup_needed).toBe(false);
    expect(after.profiles.find((p) => p.name === 'staging-power')?.sso_account_id).toBe('210987654321');
    // The new profile signs in with the set-up's sign-in: it lists at once.
    await expect(mock.whoami('staging-power')).resolves.toMatchObject({ account: '210987654321' });
  });

  it('sends bad input back to the form and keeps a refused write on the list', async () => {
    const { mock, setup, written } = fresh();
    setup.startUrl = 'http://my-org.awsapps.com/start';
    setup.ssoRegion = 'eu-west-1';
    await setup.signIn();
    expect(setup.step).toMatchObject({ step: 'start', error: { kind: 'invalid_input' } });

    setup.startUrl = 'https://my-org.awsapps.com/start';
    const signing = setup.signIn();
    await until('the device code', () => setup.step.step === 'sign-in' && setup.step.prompt);
    mock.setup.approveSetup();
    await signing;
    setup.picks[0]!.keep = true;
    setup.picks[1]!.keep = true;
    setup.picks[1]!.profile_name = setup.picks[0]!.profile_name;
    await setup.finish();
    expect(setup.step).toMatchObject({ step: 'choose', writing: false, error: { kind: 'invalid_input' } });
    expect(written).toEqual([]);
    setup.picks[1]!.profile_name = 'prod-readonly';
    await setup.finish();
    expect(written[0]?.profiles).toEqual(['AdministratorAccess-123456789012', 'prod-readonly']);
  });

  it('cancel stops the sign-in and returns to the form; a late answer is dropped', async () => {
    const { mock, setup } = fresh();
    setup.startUrl = 'https://my-org.awsapps.com/start';
    setup.ssoRegion = 'eu-west-1';
    const signing = setup.signIn();
    await until('the device code', () => setup.step.step === 'sign-in' && setup.step.prompt);
    setup.cancel();
    await signing;
    expect(setup.step).toEqual({ step: 'start', error: null });
    await expect(mock.ssoSetupWrite({ roles: [], region: 'eu-west-1' })).rejects.toMatchObject({ kind: 'invalid_input' });
  });

  it('ticks a lone role that has no profile yet', () => {
    const one: Portal = { session: 's', start_url: 'https://x/start', sso_region: 'us-east-1', session_exists: false,
      accounts: [{ account_id: '1', account_name: 'a', email: null,
        roles: [{ role_name: 'R', profile_name: 'R-1', existing_profile: null }] }] };
    expect(picksOf(one)[0]!.keep).toBe(true);
    one.accounts[0]!.roles[0]!.existing_profile = 'mine';
    expect(picksOf(one)[0]!.keep).toBe(false);
  });
});
