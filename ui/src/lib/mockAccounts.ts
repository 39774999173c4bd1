// The browser mock's AWS identities and saved profiles (see mockBackend.ts): two accounts through
// IAM Identity Center (one signed in, one not), an MFA assume-role profile and static keys, and
// an in-memory profiles file with the same rules the Rust store enforces.
import type {
  ApiError, AwsProfile, AwsProfiles, CallerIdentity, Fix, Instance, LoginPrompt, Profile,
} from '../generated/bindings';
import type { AwsProfileName, Backend } from './backend';
import { checkName, parseTarget } from './profileList';

type AccountsPart = Pick<Backend,
  'profilesList' | 'profileSave' | 'profileDelete' | 'profileResolve' | 'awsProfiles' | 'whoami' |
  'ssoLogin' | 'ssoLoginCancel' | 'ssoLogout' | 'mfaSubmit'>;

export type MockAccounts = AccountsPart & {
  /** Profiles the first-run set-up wrote; `signedIn`: its sign-in serves them. */
  addAwsProfiles(list: AwsProfile[], signedIn: boolean): void;
  /** Rejects like the real backend when the profile has no usable credentials. */
  requireCredentials(awsProfile: AwsProfileName): void;
  /** The account a profile's calls land in. */
  accountOf(awsProfile: AwsProfileName): string;
  /** Approve the pending sign-in (what the user does in the browser). */
  approveLogin(): void;
  /** A session through the profile connected: last_used becomes now. */
  markUsed(name: string): void;
  readonly profiles: Profile[];
};

export const MOCK_ACCOUNTS = { prod: '123456789012', staging: '210987654321' } as const;
export const MFA_CODE = '123456';

const blank = {
  region: null, sso_session: null, sso_account_id: null, sso_role_name: null, role_arn: null,
  source_profile: null, mfa_serial: null,
};

export const MOCK_AWS_PROFILES: AwsProfile[] = [
  { ...blank, name: 'admin-prod', kind: 'sso_session', region: 'us-east-1', sso_session: 'corp',
    sso_account_id: MOCK_ACCOUNTS.prod, sso_role_name: 'AdministratorAccess' },
  { ...blank, name: 'default', kind: 'static', region: 'us-east-1' },
  { ...blank, name: 'ops-mfa', kind: 'assume_role_mfa', region: 'us-east-1',
    role_arn: `arn:aws:iam::${MOCK_ACCOUNTS.prod}:role/ops`, source_profile: 'default',
    mfa_serial: `arn:aws:iam::${MOCK_ACCOUNTS.prod}:mfa/alice` },
  { ...blank, name: 'staging', kind: 'sso_session', region: 'eu-west-1', sso_session: 'corp',
    sso_account_id: MOCK_ACCOUNTS.staging, sso_role_name: 'PowerUserAccess' },
];

const fail = (kind: ApiError['kind'], message: string, hint: string | null = null, fix: Fix | null = null): ApiError =>
  ({ kind, message, hint, fix });

function seedProfiles(): Profile[] {
  return [
    { name: 'web-1', group: 'prod', target: 'i-0a1b2c3d4e5f60001', aws_profile: 'admin-prod', region: 'us-east-1',
      user: 'ec2-user', last_used: new Date(Date.now() - 3600_000).toISOString() },
    { name: 'web (any)', group: 'prod', target: 'Role=frontend,Env=prod', aws_profile: 'admin-prod', region: 'us-east-1' },
    { name: 'batch', group: 'data', target: 'i-0a1b2c3d4e5f60006', aws_profile: 'admin-prod', region: 'us-east-1',
      notes: 'Stopped outside office hours.' },
    { name: 'bastion', target: 'i-0a1b2c3d4e5f60005', aws_profile: 'admin-prod', region: 'us-east-1', user: 'admin',
      forwards: [{ local_port: 15432, host: 'db.internal', port: 5432 }],
      last_used: new Date(Date.now() - 86_400_000).toISOString() },
  ];
}

export function createMockAccounts(
  opts: { empty?: boolean; firstRun?: boolean; instances: () => Instance[]; delay: (ms: number) => Promise<void> },
): MockAccounts {
  const profiles: Profile[] = opts.empty ? [] : seedProfiles();
  // First run: no AWS profile at all, as on a machine where `aws configure` never ran.
  const awsList: AwsProfile[] = opts.firstRun ? [] : [...MOCK_AWS_PROFILES];
  const signedIn = new Set<string>(['admin-prod']);
  const mfaDone = new Set<string>();
  let pending: { profile: string; approve: () => void; cancel: () => void } | null = null;

  const effective = (p: AwsProfileName) => p ?? 'admin-prod';
  const info = (p: AwsProfileName) => awsList.find((x) => x.name === effective(p));
  const sorted = () => [...profiles].sort((a, b) =>
    (a.group ?? '').localeCompare(b.group ?? '') || a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  const find = (name: string) => {
    const p = profiles.find((x) => x.name === name);
    if (!p) throw fail('invalid_input', `no profile named '${name}'`, 'See the sidebar for the saved profiles.');
    return p;
  };
  const check = (p: Profile) => {
    if (checkName(p.name)) throw fail('invalid_input', `the profile name '${p.name}' must be 1–64 characters, not starting with '@' or '-'`);
    if (!p.target.trim()) throw fail('invalid_input', `profile '${p.name}': the target is empty`, 'Use an instance id (i-…) or tags such as Name=web-*.');
  };

  const accounts: MockAccounts = {
    profiles,
    addAwsProfiles(list, isSignedIn) {
      awsList.push(...list);
      if (isSignedIn) list.forEach((p) => signedIn.add(p.name));
    },
    requireCredentials(awsProfile) {
      const p = info(awsProfile);
      if (!p) throw fail('aws_config', `the AWS profile '${effective(awsProfile)}' is not in ~/.aws/config`);
      if (p.kind === 'sso_session' && !signedIn.has(p.name)) {
        throw fail('credentials', `IAM Identity Center sign-in for profile '${p.name}' has not been done (no cached token)`,
          null, { type: 'sso_login', aws_profile: p.name });
      }
      if (p.kind === 'assume_role_mfa' && !mfaDone.has(p.name)) {
        throw fail('credentials', `AWS profile '${p.name}' needs an MFA code (mfa_serial) to assume its role`, null,
          { type: 'mfa_code', aws_profile: p.name });
      }
    },
    accountOf(awsProfile) {
      return info(awsProfile)?.sso_account_id ?? MOCK_ACCOUNTS.prod;
    },
    approveLogin() {
      pending?.approve();
    },
    markUsed(name) {
      const p = profiles.find((x) => x.name === name);
      if (p) p.last_used = new Date().toISOString();
    },
    async profilesList() {
      return sorted();
    },
    async profileSave(previous, profile) {
      check(profile);
      const clash = profiles.findIndex((x) => x.name === profile.name);
      if (previous === null) {
        if (clash >= 0) throw fail('invalid_input', `a profile named '${profile.name}' already exists`, 'Pick another name.');
        profiles.push({ ...profile });
      } else {
        const i = profiles.findIndex((x) => x.name === previous);
        if (i < 0) throw fail('invalid_input', `no profile named '${previous}'`);
        if (clash >= 0 && clash !== i) throw fail('invalid_input', `cannot rename '${previous}' to '${profile.name}': that name is taken`);
        profiles[i] = { ...profile };
      }
      return sorted();
    },
    async profileDelete(name) {
      const p = find(name);
      profiles.splice(profiles.indexOf(p), 1);
      return p;
    },
    async profileResolve(name) {
      const p = find(name);
      accounts.requireCredentials(p.aws_profile ?? null);
      await opts.delay(120);
      const region = p.region ?? 'us-east-1';
      const inRegion = opts.instances().filter((i) => i.region === region);
      const target = parseTarget(p.target);
      if ('error' in target) throw fail('invalid_input', `profile '${p.name}': ${target.error}`);
      if (target.ok.kind === 'id') {
        const i = inRegion.find((x) => x.instance_id === p.target);
        if (!i) throw fail('instance_not_found', `instance ${p.target} was not found in ${region}`, 'It may have been terminated, or it is in another region or account.');
        if (i.state !== 'running') throw fail('instance_not_running', `${i.name ?? i.instance_id} (${i.instance_id}) is ${i.state}, not running`, null, { type: 'start_instance' });
        return [i];
      }
      const want = target.ok.tags;
      const glob = (pat: string, s: string) => new RegExp(`^${pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(s);
      const found = inRegion.filter((i) => i.state === 'running' && want.every(([k, v]) => i.tags[k] !== undefined && glob(v, i.tags[k]!)));
      if (!found.length) throw fail('instance_not_found', `no running instance matches '${p.target}' in ${region}`, 'Check the tags, region and AWS profile.');
      return found;
    },
    async awsProfiles(): Promise<AwsProfiles> {
      return {
        profiles: [...awsList], default_profile: opts.firstRun ? 'default' : 'admin-prod',
        setup_needed: awsList.every((p) => p.kind === 'other'),
      };
    },
    async whoami(awsProfile): Promise<CallerIdentity> {
      accounts.requireCredentials(awsProfile);
      await opts.delay(80);
      const p = info(awsProfile)!;
      const account = accounts.accountOf(awsProfile);
      const expires = new Date(Date.now() + 7 * 3600_000).toISOString();
      if (p.kind === 'static') {
        return { account, arn: `arn:aws:iam::${account}:user/alice`, user_id: 'AIDAMOCKALICE', expires_at: null };
      }
      const role = p.kind === 'assume_role_mfa' ? 'ops' : `AWSReservedSSO_${p.sso_role_name}_0123456789abcdef`;
      return { account, arn: `arn:aws:sts::${account}:assumed-role/${role}/alice`, user_id: 'AROAMOCK:alice', expires_at: expires };
    },
    ssoLogin(awsProfile, onPrompt) {
      const name = effective(awsProfile);
      pending?.cancel();
      return new Promise<string>((resolve, reject) => {
        const code = 'WDJB-MJHT';
        const prompt: LoginPrompt = {
          user_code: code, verification_uri: 'https://device.sso.us-east-1.amazonaws.com/',
          url: `https://device.sso.us-east-1.amazonaws.com/?user_code=${code}`, url_warning: null, expires_in_secs: 600,
        };
        const me = {
          profile: name,
          approve: () => { pending = null; signedIn.add(name); resolve(new Date(Date.now() + 8 * 3600_000).toISOString()); },
          cancel: () => { pending = null; reject(fail('credentials', 'sign-in cancelled', 'Sign in again when you are ready.')); },
        };
        pending = me;
        setTimeout(() => onPrompt(prompt), 0);
      });
    },
    async ssoLoginCancel(awsProfile) {
      if (!pending || pending.profile !== effective(awsProfile)) return false;
      pending.cancel();
      return true;
    },
    async ssoLogout(awsProfile) {
      const sign_in = "sso-session 'corp'";
      if (!signedIn.delete(effective(awsProfile))) {
        return { sign_in, removed: [], message: `Not signed in to ${sign_in}: nothing to remove.`, warning: null };
      }
      return {
        sign_in,
        removed: ['~/.aws/sso/cache/8c2c0d6f1a3b5e7d9f0a1b2c3d4e5f6a7b8c9d0e.json'],
        message: `Signed out of ${sign_in}: removed the sign-in token.`,
        warning: null,
      };
    },
    async mfaSubmit(awsProfile, code) {
      await opts.delay(100);
      if (!/^\d{6}$/.test(code.trim())) throw fail('invalid_input', 'an MFA code is 6 digits');
      if (code.trim() !== MFA_CODE) throw fail('access_denied', 'MultiFactorAuthentication failed with invalid MFA one time pass code.', 'Wait for the next code and try again.');
      mfaDone.add(effective(awsProfile));
    },
  };
  return accounts;
}
