import { describe, expect, it } from 'vitest';
import type { ApiError, AwsProfile, Fix } from '../generated/bindings';
import {
  cleanMfaCode, countdown, durationText, effectiveName, expiryOf, filterProfiles, kindLabel, parseRegions,
  prettyRole, principalOf, profileAccount, profileRole, recheckDelay, recoveryFor,
  regionsAfterSwitch, regionsPrefKey,
} from './identityText';

const blank = {
  region: null, sso_session: null, sso_account_id: null, sso_role_name: null, role_arn: null,
  source_profile: null, mfa_serial: null,
};
const P: AwsProfile[] = [
  { ...blank, name: 'default', kind: 'static', region: 'us-east-1' },
  { ...blank, name: 'sso-admin', kind: 'sso_session', sso_session: 'lab', sso_account_id: '123456789012', sso_role_name: 'AdminAccess', region: 'us-east-1' },
  { ...blank, name: 'sso-legacy', kind: 'sso', sso_account_id: '123456789012', sso_role_name: 'ReadOnly' },
  { ...blank, name: 'ops', kind: 'assume_role', role_arn: 'arn:aws:iam::123456789012:role/ops', source_profile: 'default' },
  { ...blank, name: 'ops-mfa', kind: 'assume_role_mfa', role_arn: 'arn:aws:iam::123456789012:role/ops-mfa', source_profile: 'default', mfa_serial: 'arn:aws:iam::123456789012:mfa/lab-admin' },
  { ...blank, name: 'chain', kind: 'assume_role', role_arn: 'arn:aws:iam::210987654321:role/deploy', source_profile: 'sso-admin' },
];
const cred = (message: string, fix: Fix | null = null, hint: string | null = null): ApiError => ({ kind: 'credentials', message, hint, fix });
const signIn = (aws_profile: string): Fix => ({ type: 'sso_login', aws_profile });

describe('labels', () => {
  it('names every kind with a badge', () => {
    expect(kindLabel('sso_session').badge).toBe('SSO');
    expect(kindLabel('sso').badge).toBe('SSO');
    expect(kindLabel('assume_role_mfa').badge).toBe('MFA');
    expect(kindLabel('assume_role').badge).toBe('role');
    expect(kindLabel('static').badge).toBe('keys');
    for (const k of ['web_identity', 'credential_process', 'other'] as const) expect(kindLabel(k).badge).toBeTruthy();
  });

  it('reads roles, users and root out of caller ARNs', () => {
    expect(principalOf('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdminAccess_0123456789abcdef/lab-user'))
      .toEqual({ kind: 'role', name: 'AdminAccess', session: 'lab-user', account: '123456789012' });
    expect(principalOf('arn:aws:sts::123456789012:assumed-role/ops/keyless-1')).toMatchObject({ kind: 'role', name: 'ops', session: 'keyless-1' });
    expect(principalOf('arn:aws:iam::123456789012:user/lab-admin')).toMatchObject({ kind: 'user', name: 'lab-admin' });
    expect(principalOf('arn:aws:iam::123456789012:user/division/team/alice')).toMatchObject({ kind: 'user', name: 'alice' });
    expect(principalOf('arn:aws:iam::123456789012:root')).toMatchObject({ kind: 'root', name: 'root' });
    expect(principalOf('arn:aws-cn:sts::123456789012:federated-user/bob')).toMatchObject({ kind: 'federated', name: 'bob' });
    expect(principalOf('nonsense')).toMatchObject({ kind: 'other', name: 'nonsense', account: null });
    expect(prettyRole('AWSReservedSSO_PowerUser_Access_0123456789abcdef')).toBe('PowerUser_Access');
    expect(prettyRole('AWSReservedSSO_x')).toBe('AWSReservedSSO_x');
  });

  it('knows account and role of SSO and role profiles from the config', () => {
    expect(profileAccount(P[1]!)).toBe('123456789012');
    expect(profileRole(P[1]!)).toBe('AdminAccess');
    expect(profileAccount(P[5]!)).toBe('210987654321');
    expect(profileRole(P[5]!)).toBe('deploy');
    expect(profileAccount(P[0]!)).toBeNull();
    expect(profileRole(P[0]!)).toBeNull();
  });
});

describe('expiry', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const at = (ms: number) => new Date(now + ms).toISOString();
  it('counts down in days, hours and minutes', () => {
    expect(durationText(7 * 3600_000 + 12 * 60_000 + 59_000)).toBe('7h 12m');
    expect(durationText(3600_000)).toBe('1h');
    expect(durationText(12 * 60_000)).toBe('12m');
    expect(durationText(30_000)).toBe('<1m');
    expect(durationText(50 * 3600_000)).toBe('2d 2h');
    expect(durationText(48 * 3600_000)).toBe('2d');
  });
  it('warns under 15 minutes, says expired after, nothing for keys that never expire', () => {
    expect(expiryOf(at(7 * 3600_000 + 12 * 60_000), now)).toEqual({ text: 'expires in 7h 12m', level: 'ok' });
    expect(expiryOf(at(15 * 60_000), now)?.level).toBe('ok');
    expect(expiryOf(at(14 * 60_000 + 59_000), now)).toEqual({ text: 'expires in 14m', level: 'warn' });
    expect(expiryOf(at(-1), now)).toEqual({ text: 'expired', level: 'expired' });
    expect(expiryOf(null, now)).toBeNull();
    expect(expiryOf('garbage', now)).toBeNull();
  });
  it('formats the device code countdown', () => {
    expect(countdown(600)).toBe('10:00');
    expect(countdown(65.9)).toBe('1:05');
    expect(countdown(-3)).toBe('0:00');
  });
  it('rechecks a few minutes before expiry, once after it, never for long-term keys', () => {
    expect(recheckDelay(null, now)).toBeNull();
    expect(recheckDelay(at(3600_000), now)).toBe(3600_000 - 180_000);
    expect(recheckDelay(at(60_000), now)).toBe(65_000);
    expect(recheckDelay(at(170_000), now)).toBe(175_000);
    expect(recheckDelay(at(181_000), now)).toBe(20_000);
    expect(recheckDelay(at(-10_000), now)).toBeNull();
  });
});

describe('recoveryFor', () => {
  it('signs in for an sso_login fix, asks a code for an mfa_code fix', () => {
    const e = cred("IAM Identity Center sign-in for profile 'sso-admin' has not been done", signIn('sso-admin'));
    expect(recoveryFor('default', 'sso-admin', e)).toEqual({ kind: 'sso', profile: 'sso-admin' });
    const mfa = cred("AWS profile 'ops-mfa' needs an MFA code (mfa_serial)", { type: 'mfa_code', aws_profile: 'ops-mfa' });
    expect(recoveryFor('default', 'ops-mfa', mfa)).toEqual({ kind: 'mfa', profile: 'ops-mfa' });
  });
  it('keeps null for the default profile (the backend keys contexts by it)', () => {
    expect(recoveryFor('sso-admin', null, cred('no token', signIn('sso-admin')))).toEqual({ kind: 'sso', profile: null });
  });
  it('signs in the SSO profile a role chain starts from, as the fix names it', () => {
    const e = cred("IAM Identity Center sign-in for profile 'sso-admin' has expired", signIn('sso-admin'));
    expect(recoveryFor('default', 'chain', e)).toEqual({ kind: 'sso', profile: 'sso-admin' });
  });
  it('goes by the fix, never by the text', () => {
    // The old text-matching cues, without a fix: nothing to offer.
    expect(recoveryFor('default', 'sso-admin', cred("IAM Identity Center sign-in for profile 'sso-admin' has expired", null, 'Run `keyless login --profile sso-admin`'))).toBeNull();
    expect(recoveryFor('default', 'ops-mfa', cred("AWS profile 'ops-mfa' needs an MFA code (mfa_serial)"))).toBeNull();
    expect(recoveryFor('default', 'sso-admin', cred('sign-in cancelled'))).toBeNull();
    // A fix the identity dialogs do not handle.
    expect(recoveryFor('default', 'sso-admin', { kind: 'instance_not_running', message: 'stopped', hint: null, fix: { type: 'start_instance' } })).toBeNull();
    expect(recoveryFor('default', 'sso-admin', null)).toBeNull();
  });
});

describe('profiles and regions', () => {
  it('filters by name, badge, account and role; the default first', () => {
    expect(filterProfiles(P, '', 'ops').map((p) => p.name)).toEqual(['ops', 'chain', 'default', 'ops-mfa', 'sso-admin', 'sso-legacy']);
    expect(filterProfiles(P, 'sso', null).map((p) => p.name)).toEqual(['sso-admin', 'sso-legacy']);
    expect(filterProfiles(P, '2109', null).map((p) => p.name)).toEqual(['chain']);
    expect(filterProfiles(P, 'mfa', null).map((p) => p.name)).toEqual(['ops-mfa']);
    expect(filterProfiles(P, ' READONLY ', null).map((p) => p.name)).toEqual(['sso-legacy']);
  });
  it('names the window\'s profile', () => {
    expect(effectiveName(null, 'default')).toBe('default');
    expect(effectiveName('ops', 'default')).toBe('ops');
    expect(effectiveName(null, null)).toBeNull();
  });
  it('remembers regions per profile, falling back to the profile region, then the current', () => {
    expect(regionsPrefKey(null)).toBe('regions');
    expect(regionsPrefKey('sso-admin')).toBe('regions@sso-admin');
    expect(parseRegions('["eu-west-1","us-east-1"]')).toEqual(['eu-west-1', 'us-east-1']);
    expect(parseRegions('[]')).toBeNull();
    expect(parseRegions('{')).toBeNull();
    expect(parseRegions('[1]')).toBeNull();
    expect(parseRegions(null)).toBeNull();
    expect(regionsAfterSwitch(['ap-south-1'], 'eu-west-1', ['us-east-1'])).toEqual(['ap-south-1']);
    expect(regionsAfterSwitch(null, 'eu-west-1', ['us-east-1'])).toEqual(['eu-west-1']);
    expect(regionsAfterSwitch(null, null, ['us-east-1', 'eu-west-1'])).toEqual(['us-east-1', 'eu-west-1']);
  });
  it('cleans a typed MFA code', () => {
    expect(cleanMfaCode(' 123 456 ')).toBe('123456');
    expect(cleanMfaCode('12-34-56-78')).toBe('123456');
    expect(cleanMfaCode('abc')).toBe('');
  });
});
