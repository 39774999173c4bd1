// The browser mock's first-run set-up (see mockBackend.ts): an IAM Identity Center portal with the
// two mock accounts, a device sign-in approved by approveSetup() (what the user does in the
// browser), and profiles "written" into the mock's AWS profile list, with the backend's refusals.
import type { ApiError, AwsProfile, ConfigWritten, LoginPrompt, Portal } from '../generated/bindings';
import type { Backend } from './backend';
import { MOCK_ACCOUNTS, type MockAccounts } from './mockAccounts';

type SetupPart = Pick<Backend, 'ssoSetupStart' | 'ssoSetupCancel' | 'ssoSetupWrite' | 'startDemoLab'>;
export type MockSetup = SetupPart & {
  /** Approves the pending set-up sign-in. */
  approveSetup(): void;
  /** How many times the app asked to end for the demo lab. */
  readonly labRequests: number;
};

const fail = (kind: ApiError['kind'], message: string, hint: string | null = null): ApiError =>
  ({ kind, message, hint, fix: null });

const ROLES: Record<string, string[]> = {
  [MOCK_ACCOUNTS.prod]: ['AdministratorAccess', 'ReadOnlyAccess'],
  [MOCK_ACCOUNTS.staging]: ['AdministratorAccess', 'PowerUserAccess'],
};

/** The backend's rules (core identity::config_writer), as far as the UI can meet them. */
const NAME = /^[A-Za-z0-9\-_.@+=,]{1,128}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function createMockSetup(accounts: MockAccounts, offerLab: boolean): MockSetup {
  let pending: { approve: () => void; cancel: () => void } | null = null;
  let listed: Portal | null = null;
  let labRequests = 0;

  const portalOf = (startUrl: string, ssoRegion: string): Portal => {
    const taken = new Set<string>();
    return {
      session: new URL(startUrl).hostname.split('.')[0] || 'sso', start_url: startUrl, sso_region: ssoRegion,
      session_exists: false,
      accounts: [
        { account_id: MOCK_ACCOUNTS.prod, account_name: 'prod', email: 'aws-prod@example.com' },
        { account_id: MOCK_ACCOUNTS.staging, account_name: 'staging', email: null },
      ].map((a) => ({
        ...a,
        roles: ROLES[a.account_id]!.map((role_name) => {
          let name = `${role_name}-${a.account_id}`;
          for (let n = 2; taken.has(name); n++) name = `${role_name}-${a.account_id}-${n}`;
          taken.add(name);
          return { role_name, profile_name: name, existing_profile: null };
        }),
      })),
    };
  };

  const setup: MockSetup = {
    get labRequests() { return labRequests; },
    approveSetup() { pending?.approve(); },
    ssoSetupStart(startUrl, ssoRegion, onPrompt) {
      if (!/^https:\/\/[^\s/]+/.test(startUrl)) {
        return Promise.reject(fail('invalid_input', `'${startUrl}' is not an IAM Identity Center start URL`,
          'It is the https:// address of your AWS access portal, e.g. https://my-org.awsapps.com/start.'));
      }
      if (!REGION.test(ssoRegion)) return Promise.reject(fail('invalid_input', `'${ssoRegion}' is not an AWS region`));
      pending?.cancel();
      listed = null;
      return new Promise<Portal>((resolve, reject) => {
        const code = 'QXRT-LMNB';
        const prompt: LoginPrompt = {
          user_code: code, verification_uri: `https://device.sso.${ssoRegion}.amazonaws.com/`,
          url: `https://device.sso.${ssoRegion}.amazonaws.com/?user_code=${code}`, url_warning: null, expires_in_secs: 600,
        };
        pending = {
          approve: () => { pending = null; listed = portalOf(startUrl, ssoRegion); resolve(listed); },
          cancel: () => { pending = null; reject(fail('credentials', 'sign-in cancelled', 'Sign in again when you are ready.')); },
        };
        setTimeout(() => onPrompt(prompt), 0);
      });
    },
    async ssoSetupCancel() {
      if (!pending) return false;
      pending.cancel();
      return true;
    },
    async ssoSetupWrite(choices): Promise<ConfigWritten> {
      const portal = listed;
      if (!portal) throw fail('invalid_input', 'no AWS access portal has been signed in to and listed yet', 'Sign in to the portal first.');
      if (!REGION.test(choices.region.trim())) throw fail('invalid_input', `'${choices.region}' is not an AWS region`);
      if (!choices.roles.length) throw fail('invalid_input', 'no role was chosen, so there is no profile to add');
      const existing = new Set((await accounts.awsProfiles()).profiles.map((p) => p.name));
      const added: AwsProfile[] = [];
      for (const c of choices.roles) {
        if (!NAME.test(c.profile_name)) throw fail('invalid_input', `'${c.profile_name}' is not a valid profile name`);
        if (existing.has(c.profile_name)) {
          throw fail('invalid_input', `an AWS profile named '${c.profile_name}' exists already`,
            'Choose another profile name: Keyless does not change existing profiles.');
        }
        if (!ROLES[c.account_id]?.includes(c.role_name)) {
          throw fail('invalid_input', `the AWS access portal lists no role '${c.role_name}' in account '${c.account_id}'`);
        }
        existing.add(c.profile_name);
        added.push({
          name: c.profile_name, kind: 'sso_session', region: choices.region.trim(), sso_session: portal.session,
          sso_account_id: c.account_id, sso_role_name: c.role_name, role_arn: null, source_profile: null, mfa_serial: null,
        });
      }
      accounts.addAwsProfiles(added, true);
      listed = null;
      return {
        path: '~/.aws/config', backup: null, session: portal.session, session_added: true,
        profiles: added.map((p) => p.name),
      };
    },
    async startDemoLab() {
      if (!offerLab) throw fail('invalid_input', 'the demo lab is offered only when scripts/run.sh started Keyless');
      labRequests++;
    },
  };
  return setup;
}
