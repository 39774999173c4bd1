// Pure logic about AWS identities for the app: labels for profile kinds and ARNs, the expiry
// countdown, which recovery (sign-in / MFA) a credentials error calls for, profile filtering.
// No Svelte, no backend: identity.svelte.ts and the components use these; identityText.test.ts tests them.
import type { ApiError, AwsProfile, ProfileKind } from '../generated/bindings';

/** A short badge ("SSO", "MFA", "keys" …) and a longer description of how a profile gets credentials. */
export function kindLabel(kind: ProfileKind): { badge: string; title: string } {
  switch (kind) {
    case 'static': return { badge: 'keys', title: 'Access keys' };
    case 'sso_session': return { badge: 'SSO', title: 'IAM Identity Center' };
    case 'sso': return { badge: 'SSO', title: 'IAM Identity Center (legacy settings)' };
    case 'assume_role': return { badge: 'role', title: 'Assume role' };
    case 'assume_role_mfa': return { badge: 'MFA', title: 'Assume role with MFA' };
    case 'web_identity': return { badge: 'OIDC', title: 'Web identity token' };
    case 'credential_process': return { badge: 'process', title: 'credential_process' };
    case 'other': return { badge: 'other', title: 'Other credential source' };
  }
}

export const isSso = (kind: ProfileKind | undefined | null): boolean => kind === 'sso_session' || kind === 'sso';

/** "AWSReservedSSO_AdminAccess_0123456789abcdef" → "AdminAccess" (IAM Identity Center's role names). */
export function prettyRole(role: string): string {
  const m = /^AWSReservedSSO_(.+)_[0-9a-f]{16}$/.exec(role);
  return m ? m[1]! : role;
}

export type Principal = {
  kind: 'role' | 'user' | 'root' | 'federated' | 'other';
  /** What to show: the role (pretty), the user name, "root" … */
  name: string;
  /** The role session name (assumed roles), else null. */
  session: string | null;
  account: string | null;
};

/** Who an ARN of sts:GetCallerIdentity is. */
export function principalOf(arn: string): Principal {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return { kind: 'other', name: arn, session: null, account: null };
  const account = parts[4] || null;
  const resource = parts.slice(5).join(':');
  if (resource === 'root') return { kind: 'root', name: 'root', session: null, account };
  const segs = resource.split('/');
  const type = segs[0];
  if (type === 'assumed-role' && segs.length >= 2) {
    return { kind: 'role', name: prettyRole(segs[1]!), session: segs.slice(2).join('/') || null, account };
  }
  if (type === 'role' && segs.length >= 2) return { kind: 'role', name: prettyRole(segs[segs.length - 1]!), session: null, account };
  if (type === 'user' && segs.length >= 2) return { kind: 'user', name: segs[segs.length - 1]!, session: null, account };
  if (type === 'federated-user' && segs.length >= 2) return { kind: 'federated', name: segs[segs.length - 1]!, session: null, account };
  return { kind: 'other', name: resource, session: null, account };
}

/** The account a profile lands in, when its config says (SSO account id or the role ARN's). */
export function profileAccount(p: AwsProfile): string | null {
  if (p.sso_account_id) return p.sso_account_id;
  if (p.role_arn) return principalOf(p.role_arn).account;
  return null;
}

/** The role a profile uses, when its config says. */
export function profileRole(p: AwsProfile): string | null {
  if (p.sso_role_name) return p.sso_role_name;
  if (p.role_arn) return principalOf(p.role_arn).name;
  return null;
}

/** "7h 12m", "12m", "2d 3h", "<1m" for a positive duration in ms. */
export function durationText(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 1) return '<1m';
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  if (d > 0) return h ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m ? `${h}h ${m}m` : `${h}h`;
  return `${m}m`;
}

export const WARN_BEFORE_MS = 15 * 60_000;

export type Expiry = { text: string; level: 'ok' | 'warn' | 'expired' };

/** "expires in 7h 12m" (warn under 15 minutes), "expired"; null for credentials that never expire. */
export function expiryOf(expiresAt: string | null, now: number = Date.now()): Expiry | null {
  if (!expiresAt) return null;
  const t = Date.parse(expiresAt);
  if (Number.isNaN(t)) return null;
  const left = t - now;
  if (left <= 0) return { text: 'expired', level: 'expired' };
  return { text: `expires in ${durationText(left)}`, level: left < WARN_BEFORE_MS ? 'warn' : 'ok' };
}

/** "9:05" for a device code's remaining seconds. */
export function countdown(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** When to ask whoami again so the status bar follows a silent refresh: a few minutes before the
 *  expiry (or just after it when that is already past), never sooner than 20 s. Null: never. */
export function recheckDelay(expiresAt: string | null, now: number = Date.now()): number | null {
  if (!expiresAt) return null;
  const t = Date.parse(expiresAt);
  if (Number.isNaN(t)) return null;
  const before = t - 3 * 60_000 - now;
  const delay = before > 0 ? before : t + 5_000 - now;
  if (delay <= 0) return null;
  return Math.min(Math.max(delay, 20_000), 2 ** 31 - 1);
}

/** The profile name a window's choice means (null: the default profile). */
export function effectiveName(awsProfile: string | null, defaultProfile: string | null): string | null {
  return awsProfile ?? defaultProfile;
}

export type Recovery = { kind: 'sso' | 'mfa'; /** the profile to sign in / to give the code for */ profile: string | null };

/**
 * What the app can do about an error of `awsProfile` (null: the default profile), from the fix
 * the backend attached: an IAM Identity Center sign-in (for the profile itself, or the SSO profile
 * a role chain starts from), an MFA code, or nothing. `profile` keeps null when the fix names the
 * default profile, so the dialog and the window agree on which profile it is.
 */
export function recoveryFor(defaultProfile: string | null, awsProfile: string | null, error: ApiError | null): Recovery | null {
  const fix = error?.fix;
  if (!fix) return null;
  const profile = (name: string) => (name === effectiveName(awsProfile, defaultProfile) ? awsProfile : name);
  if (fix.type === 'sso_login') return { kind: 'sso', profile: profile(fix.aws_profile) };
  if (fix.type === 'mfa_code') return { kind: 'mfa', profile: profile(fix.aws_profile) };
  return null;
}

/** Profiles matching a filter (name, kind badge, account, role, session), the default first, then by name. */
export function filterProfiles(profiles: AwsProfile[], query: string, defaultProfile: string | null): AwsProfile[] {
  const q = query.trim().toLowerCase();
  const hit = (p: AwsProfile) => !q || [p.name, kindLabel(p.kind).badge, profileAccount(p), profileRole(p), p.sso_session, p.region]
    .some((s) => s?.toLowerCase().includes(q));
  return profiles.filter(hit).sort((a, b) =>
    Number(b.name === defaultProfile) - Number(a.name === defaultProfile) || a.name.localeCompare(b.name));
}

/** The prefs key of an AWS profile's region selection (the default profile keeps the old key). */
export function regionsPrefKey(awsProfile: string | null): string {
  return awsProfile === null ? 'regions' : `regions@${awsProfile}`;
}

/** Parses a remembered region list; null when absent or malformed. */
export function parseRegions(raw: string | null): string[] | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as unknown;
    if (Array.isArray(v) && v.length && v.every((r) => typeof r === 'string')) return v as string[];
  } catch { /* ignore */ }
  return null;
}

/** The regions a window shows after switching to a profile: remembered, else the profile's region, else the current ones. */
export function regionsAfterSwitch(remembered: string[] | null, profileRegion: string | null | undefined, current: string[]): string[] {
  if (remembered?.length) return [...remembered];
  if (profileRegion) return [profileRegion];
  return [...current];
}

/** An MFA code as typed: digits only (spaces and dashes dropped), at most 6. */
export function cleanMfaCode(input: string): string {
  return input.replace(/\D/g, '').slice(0, 6);
}
