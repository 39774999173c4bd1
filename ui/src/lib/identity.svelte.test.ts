// IdentityState against the browser mock backend (mockAccounts.ts: admin-prod, the default, signed
// in; staging not signed in; ops-mfa needs the code 123456; default = static keys).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppInfo, Inventory } from '../generated/bindings';
import type { Backend } from './backend';
import { toApiError } from './errors';
import { IdentityState } from './identity.svelte';
import type { MockBackend } from './mockBackend';
import type { AppState } from './store.svelte';

const h = vi.hoisted(() => ({ mock: null as unknown as MockBackend }));

vi.mock('./backend', async () => {
  const { createMockBackend } = await import('./mockBackend');
  const fresh = () => { h.mock = createMockBackend({ slow: 0 }); };
  fresh();
  const b = () => h.mock as Backend;
  return {
    fresh,
    awsProfiles: () => b().awsProfiles(),
    whoami: (p: string | null) => b().whoami(p),
    listRegions: (p: string | null) => b().listRegions(p),
    listInstances: (p: string | null, r: string[]) => b().listInstances(p, r),
    ssoLogin: (p: string | null, on: Parameters<Backend['ssoLogin']>[1]) => b().ssoLogin(p, on),
    ssoLoginCancel: (p: string | null) => b().ssoLoginCancel(p),
    ssoLogout: (p: string | null) => b().ssoLogout(p),
    mfaSubmit: (p: string | null, c: string) => b().mfaSubmit(p, c),
  };
});

const INFO: AppInfo = { version: '0', lab: false, aws_profile: null, default_regions: ['us-east-1', 'eu-west-1'], default_port: 22, e2e: true, offer_lab: false };

/** The part of AppState IdentityState drives. */
function fakeApp() {
  const app = {
    info: INFO,
    awsProfile: null as string | null,
    selectedRegions: [...INFO.default_regions],
    regionChoices: [] as string[],
    inventory: null as Inventory | null,
    loadError: null as ReturnType<typeof toApiError> | null,
    loadedAt: null as number | null,
    async refresh() {
      try {
        app.inventory = await h.mock.listInstances(app.awsProfile, app.selectedRegions);
        app.loadError = null;
      } catch (e) {
        app.loadError = toApiError(e);
      }
    },
  };
  return app;
}

async function until(what: string, f: () => unknown): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let app: ReturnType<typeof fakeApp>;
let id: IdentityState;

beforeEach(async () => {
  const backend = (await import('./backend')) as unknown as { fresh: () => void };
  backend.fresh();
  app = fakeApp();
  id = new IdentityState(app as unknown as AppState);
  await id.init();
});

describe('IdentityState', () => {
  it('knows the profiles and who the default profile is', () => {
    expect(id.defaultProfile).toBe('admin-prod');
    expect(id.awsProfiles.map((p) => p.name)).toContain('ops-mfa');
    expect(id.currentName).toBe('admin-prod');
    expect(id.current).toMatchObject({ status: 'ok', awsProfile: null, identity: { account: '123456789012' } });
  });

  it('switching to a signed-out SSO profile opens the sign-in; approving loads its account and region', async () => {
    const done = id.select('staging');
    await until('the sign-in prompt', () => id.dialog?.kind === 'login' && id.dialog.prompt);
    expect(app.awsProfile).toBe('staging');
    expect(app.selectedRegions).toEqual(['eu-west-1']);
    expect(app.inventory).toBeNull();
    expect(id.dialog).toMatchObject({ kind: 'login', name: 'staging', prompt: { user_code: 'WDJB-MJHT' } });
    h.mock.accounts.approveLogin();
    await done;
    await until('the staging identity', () => id.current.status === 'ok' && app.inventory);
    expect(id.dialog).toBeNull();
    expect(id.current).toMatchObject({ status: 'ok', awsProfile: 'staging', identity: { account: '210987654321' } });
    expect(app.loadError).toBeNull();
  });

  it('the MFA dialog refuses a wrong code and a short one, then takes 123456', async () => {
    const done = id.select('ops-mfa');
    await until('the MFA dialog', () => id.dialog?.kind === 'mfa');
    expect(id.dialog).toMatchObject({ kind: 'mfa', name: 'ops-mfa', profile: { mfa_serial: expect.stringContaining(':mfa/') } });
    expect(await id.submitMfa('000000')).toMatchObject({ kind: 'access_denied' });
    expect(await id.submitMfa('12 34')).toMatchObject({ kind: 'invalid_input' });
    expect(id.dialog?.kind).toBe('mfa');
    expect(await id.submitMfa('123 456')).toBeNull();
    await done;
    expect(id.dialog).toBeNull();
    await until('the role identity', () => id.current.status === 'ok' && app.inventory);
    expect(id.current).toMatchObject({ identity: { arn: expect.stringContaining('assumed-role/ops/') } });
  });

  it('Cancel resolves recover() false and leaves the window saying what is missing', async () => {
    const done = id.select('staging');
    await until('the sign-in dialog', () => id.dialog?.kind === 'login');
    id.cancelDialog();
    await done;
    expect(id.dialog).toBeNull();
    expect(id.current.status).toBe('error');
    expect(id.recovery).toEqual({ kind: 'sso', profile: 'staging' });
    await until('the list error', () => app.loadError);
    expect(app.loadError?.kind).toBe('credentials');
  });

  it('recover() twice for one profile shares one dialog; other errors open nothing', async () => {
    const err = {
      kind: 'credentials' as const, message: "AWS profile 'ops-mfa' needs an MFA code (mfa_serial) to assume its role", hint: null,
      fix: { type: 'mfa_code' as const, aws_profile: 'ops-mfa' },
    };
    const a = id.recover('ops-mfa', err);
    const b = id.recover('ops-mfa', err);
    await until('the MFA dialog', () => id.dialog?.kind === 'mfa');
    expect(await id.submitMfa('123456')).toBeNull();
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(await id.recover('ops-mfa', { kind: 'network', message: 'offline', hint: null, fix: null })).toBe(false);
    expect(id.dialog).toBeNull();
  });

  it('the default profile by name means the default chain; sign-out makes the list ask for a sign-in', async () => {
    await id.select('default');
    expect(app.awsProfile).toBe('default');
    await id.select('admin-prod');
    expect(app.awsProfile).toBeNull();
    expect(app.selectedRegions).toEqual(INFO.default_regions);
    await until('the identity', () => id.current.status === 'ok');
    await id.signOut();
    expect(id.signedOut?.message).toBe("Signed out of sso-session 'corp': removed the sign-in token.");
    expect(id.signedOut?.removed).toHaveLength(1);
    await until('the credentials error', () => id.current.status === 'error' && app.loadError);
    expect(id.recovery).toEqual({ kind: 'sso', profile: null });
    // Signing in again (or switching profile) retires the message.
    const back = id.recoverCurrent();
    await until('the sign-in code', () => id.dialog?.kind === 'login' && !!id.dialog.prompt);
    h.mock.accounts.approveLogin();
    expect(await back).toBe(true);
    expect(id.signedOut).toBeNull();
  });
});
