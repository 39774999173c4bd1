// Adding an IAM Identity Center sign-in from the first-run view: the portal's start URL and region,
// the device sign-in (the backend's, as for a profile), the portal's accounts and roles to tick and
// name, a default region, then the profiles written to the AWS config file. The backend checks and
// writes; this holds what the user typed and where they are.
import type { ApiError, ConfigWritten, LoginPrompt, Portal, RoleChoice } from '../generated/bindings';
import type { SetupBackend } from './backend';
import { toApiError } from './errors';

/** One role of the portal as the user ticks and names it. */
export type RolePick = {
  account_id: string;
  account_name: string;
  role_name: string;
  /** Editable; proposed by the backend as <RoleName>-<AccountId>. */
  profile_name: string;
  keep: boolean;
  /** A profile of the config file that already has this role. */
  existing: string | null;
};

export type SetupStep =
  | { step: 'start'; error: ApiError | null }
  | { step: 'sign-in'; prompt: LoginPrompt | null; promptAt: number; error: ApiError | null }
  | { step: 'choose'; portal: Portal; error: ApiError | null; writing: boolean }
  | { step: 'done'; written: ConfigWritten };

/** The portal's roles, none ticked unless it has just one that no profile has yet. */
export function picksOf(portal: Portal): RolePick[] {
  const picks = portal.accounts.flatMap((a) => a.roles.map((r) => ({
    account_id: a.account_id, account_name: a.account_name, role_name: r.role_name,
    profile_name: r.profile_name, keep: false, existing: r.existing_profile,
  })));
  if (picks.length === 1 && !picks[0]!.existing) picks[0]!.keep = true;
  return picks;
}

export class SsoSetupState {
  startUrl = $state('');
  ssoRegion = $state('');
  /** The new profiles' default region (the portal's region until the user changes it). */
  region = $state('');
  picks = $state<RolePick[]>([]);
  step = $state<SetupStep>({ step: 'start', error: null });

  readonly chosen = $derived(this.picks.filter((p) => p.keep));
  readonly canFinish = $derived(
    this.step.step === 'choose' && !this.step.writing && this.chosen.length > 0
      && this.chosen.every((p) => p.profile_name.trim() !== '') && this.region.trim() !== '',
  );

  private backend: SetupBackend;
  private onWritten: (w: ConfigWritten) => void;
  /** Bumped by every sign-in and cancel: an answer for an older one is dropped. */
  private seq = 0;

  constructor(backend: SetupBackend, onWritten: (w: ConfigWritten) => void) {
    this.backend = backend;
    this.onWritten = onWritten;
  }

  /** Signs in to the portal and lists it. Bad input goes back to the form; a failed sign-in stays
   *  on the code panel with Try again. */
  async signIn(): Promise<void> {
    const seq = ++this.seq;
    this.step = { step: 'sign-in', prompt: null, promptAt: 0, error: null };
    const onPrompt = (p: LoginPrompt) => {
      if (seq === this.seq && this.step.step === 'sign-in') this.step = { ...this.step, prompt: p, promptAt: Date.now() };
    };
    let portal: Portal;
    try {
      portal = await this.backend.ssoSetupStart(this.startUrl.trim(), this.ssoRegion.trim(), onPrompt);
    } catch (e) {
      if (seq !== this.seq) return;
      const error = toApiError(e);
      this.step = error.kind === 'invalid_input' || error.kind === 'aws_config'
        ? { step: 'start', error }
        : { step: 'sign-in', prompt: null, promptAt: 0, error };
      return;
    }
    if (seq !== this.seq) return;
    this.picks = picksOf(portal);
    this.region = this.region.trim() || portal.sso_region;
    this.step = { step: 'choose', portal, error: null, writing: false };
  }

  /** Back to the form; a sign-in in progress stops. */
  cancel(): void {
    const signingIn = this.step.step === 'sign-in';
    this.seq++;
    if (signingIn) void this.backend.ssoSetupCancel().catch(() => false);
    this.step = { step: 'start', error: null };
  }

  /** Writes the ticked roles' profiles; a refusal (a taken name) stays on the list to fix. */
  async finish(): Promise<void> {
    const s = this.step;
    if (s.step !== 'choose' || !this.canFinish) return;
    const roles: RoleChoice[] = this.chosen.map((p) => ({
      account_id: p.account_id, role_name: p.role_name, profile_name: p.profile_name.trim(),
    }));
    this.step = { ...s, writing: true, error: null };
    let written: ConfigWritten;
    try {
      written = await this.backend.ssoSetupWrite({ roles, region: this.region.trim() });
    } catch (e) {
      this.step = { ...s, writing: false, error: toApiError(e) };
      return;
    }
    this.step = { step: 'done', written };
    this.onWritten(written);
  }
}
