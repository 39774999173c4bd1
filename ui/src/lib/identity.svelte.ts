// The window's AWS identity: the profiles of ~/.aws/config, who the window's profile is
// (sts:GetCallerIdentity), switching profiles, and getting credentials back when they are missing:
// the IAM Identity Center sign-in (device flow) and the MFA code of assume-role profiles.
// Lives at app.identity; the labels and decisions are in ./identityText.
import type { ApiError, AwsProfile, CallerIdentity, ConfigWritten, LoginPrompt, SignOut } from '../generated/bindings';
import * as backend from './backend';
import type { AwsProfileName } from './backend';
import { toApiError } from './errors';
import {
  cleanMfaCode, effectiveName, parseRegions, recheckDelay, recoveryFor, regionsAfterSwitch, regionsPrefKey,
  type Recovery,
} from './identityText';
import { readPref, writePref } from './prefs';
import type { AppState } from './store.svelte';

/** Who the window's profile is: being asked, known, or why not. */
export type Who =
  | { status: 'idle' }
  | { status: 'loading'; awsProfile: AwsProfileName }
  | { status: 'ok'; awsProfile: AwsProfileName; identity: CallerIdentity }
  | { status: 'error'; awsProfile: AwsProfileName; error: ApiError };

/** The sign-in dialog: the code once the backend has it, an error to retry after. */
export type LoginDialogState = {
  kind: 'login'; id: number; awsProfile: AwsProfileName; name: string;
  prompt: LoginPrompt | null; promptAt: number; error: ApiError | null;
};
export type MfaDialogState = {
  kind: 'mfa'; id: number; awsProfile: AwsProfileName; name: string; profile: AwsProfile | null;
};
export type IdentityDialog = LoginDialogState | MfaDialogState;

type Pending = { id: number; key: string; recovery: Recovery; resolve: (ok: boolean) => void; promise: Promise<boolean> };

const keyOf = (r: Recovery) => `${r.kind}:${r.profile ?? '\u0000'}`;

export class IdentityState {
  /** The profiles of ~/.aws/config (the saved-profiles sidebar reads this too). */
  awsProfiles = $state<AwsProfile[]>([]);
  /** The profile the default chain uses (AWS_PROFILE, else `default`); null until known. */
  defaultProfile = $state<string | null>(null);
  profilesError = $state<ApiError | null>(null);
  /** Who the window's AWS profile is. */
  current = $state<Who>({ status: 'idle' });
  /** The sign-in or MFA dialog on screen, if any. */
  dialog = $state<IdentityDialog | null>(null);
  /** What the last sign-out of the window's profile did (shown until the profile changes or signs in). */
  signedOut = $state<SignOut | null>(null);
  /** No AWS identity is configured at all (the backend's word): the first-run view shows. */
  setupNeeded = $state(false);
  /** The user carries on without one (an instance role, keys to come): the list shows. */
  setupSkipped = $state(false);
  /** The set-up was opened from the profile picker, to add another sign-in. */
  setupOpened = $state(false);

  /** The name of the window's profile (the default one for null). */
  readonly currentName = $derived(effectiveName(this.appState().awsProfile, this.defaultProfile));
  readonly currentProfile = $derived(this.awsProfiles.find((p) => p.name === this.currentName) ?? null);
  /** The window profile's default regions (the region picker's "Defaults"): its `region`, else the app's. */
  readonly defaultRegions = $derived(
    this.appState().awsProfile !== null && this.currentProfile?.region
      ? [this.currentProfile.region]
      : [...(this.appState().info?.default_regions ?? [])],
  );
  /** The first-run view instead of the instance list. */
  readonly showFirstRun = $derived((this.setupNeeded && !this.setupSkipped) || this.setupOpened);
  /** What would fix the window's credentials problem (from whoami, else the list), if anything. */
  readonly recovery = $derived(this.recoveryOf(
    this.appState().awsProfile,
    this.current.status === 'error' ? this.current.error : this.appState().loadError,
  ));

  private app: AppState;
  private pending: Pending | null = null;
  private nextId = 1;
  private whoSeq = 0;
  private recheckTimer: ReturnType<typeof setTimeout> | null = null;
  private loaded: Promise<void>;
  private markLoaded!: () => void;

  constructor(app: AppState) {
    this.app = app;
    this.loaded = new Promise((r) => (this.markLoaded = r));
  }

  private appState(): AppState {
    return this.app;
  }

  /** At start (after app_info): the profile list, then who the default profile is. Never opens a dialog. */
  async init(): Promise<void> {
    await this.loadProfiles();
    await this.check();
  }

  async loadProfiles(): Promise<void> {
    try {
      const r = await backend.awsProfiles();
      this.awsProfiles = r.profiles;
      this.defaultProfile = r.default_profile;
      this.setupNeeded = r.setup_needed;
      this.profilesError = null;
    } catch (e) {
      this.profilesError = toApiError(e);
    } finally {
      this.markLoaded();
    }
  }

  profileOf(awsProfile: AwsProfileName): AwsProfile | null {
    const name = effectiveName(awsProfile, this.defaultProfile);
    return this.awsProfiles.find((p) => p.name === name) ?? null;
  }

  recoveryOf(awsProfile: AwsProfileName, error: ApiError | null): Recovery | null {
    return recoveryFor(this.defaultProfile, awsProfile, error);
  }

  /** Asks sts:GetCallerIdentity for the window's profile; keeps showing a known identity while asking again. */
  async check(): Promise<Who> {
    const p = this.app.awsProfile;
    const seq = ++this.whoSeq;
    this.clearRecheck();
    if (!(this.current.status === 'ok' && this.current.awsProfile === p)) this.current = { status: 'loading', awsProfile: p };
    let who: Who;
    try {
      who = { status: 'ok', awsProfile: p, identity: await backend.whoami(p) };
    } catch (e) {
      who = { status: 'error', awsProfile: p, error: toApiError(e) };
    }
    if (seq !== this.whoSeq) return who;
    this.current = who;
    if (who.status === 'ok') this.scheduleRecheck(who.identity.expires_at);
    return who;
  }

  /** Follows the backend's silent refresh (and notices an expiry) without the user doing anything. */
  private scheduleRecheck(expiresAt: string | null): void {
    const delay = recheckDelay(expiresAt);
    if (delay === null || typeof setTimeout === 'undefined') return;
    this.recheckTimer = setTimeout(() => { this.recheckTimer = null; void this.check(); }, delay);
  }

  private clearRecheck(): void {
    if (this.recheckTimer !== null) clearTimeout(this.recheckTimer);
    this.recheckTimer = null;
  }

  /** The regions a profile's window shows: remembered, else its region (the default: the app's defaults), else the current. */
  private regionsFor(p: AwsProfileName): string[] {
    const info = this.app.info;
    const remembered = info?.e2e ? null : parseRegions(readPref(regionsPrefKey(p)));
    if (p === null) return remembered ?? [...(info?.default_regions.length ? info.default_regions : this.app.selectedRegions)];
    return regionsAfterSwitch(remembered, this.profileOf(p)?.region, this.app.selectedRegions);
  }

  /** Remembers the window profile's region selection (not in end-to-end runs). */
  rememberRegions(regions: string[]): void {
    if (this.app.info?.e2e) return;
    writePref(regionsPrefKey(this.app.awsProfile), JSON.stringify(regions));
  }

  /**
   * Switches the window to an AWS profile (null or the default profile's name: the default chain):
   * its regions, its region choices, a fresh list, who it is. When it needs a sign-in or an MFA
   * code, the dialog opens at once (the user asked for this profile).
   */
  async select(awsProfile: AwsProfileName): Promise<void> {
    await this.loaded;
    const p = awsProfile !== null && awsProfile === this.defaultProfile ? null : awsProfile;
    const app = this.app;
    if (p === app.awsProfile && this.current.status !== 'error') return;
    if (this.pending) this.finish(this.pending, false);
    this.signedOut = null;
    app.awsProfile = p;
    app.selectedRegions = this.regionsFor(p);
    app.inventory = null;
    app.inventoryStale = false;
    app.loadError = null;
    app.loadedAt = null;
    this.current = { status: 'loading', awsProfile: p };
    void app.refresh();
    void this.loadRegionChoices(p);
    const who = await this.check();
    if (who.status === 'error' && app.awsProfile === p) await this.recover(p, who.error);
  }

  /** The region picker's choices for `p` (the selected regions when they cannot be listed). */
  async loadRegionChoices(p: AwsProfileName): Promise<void> {
    let choices: string[];
    try {
      choices = await backend.listRegions(p);
    } catch {
      choices = [...this.app.selectedRegions];
    }
    if (this.app.awsProfile === p) this.app.regionChoices = choices;
  }

  /** The first-run view from the profile picker ("Add an IAM Identity Center sign-in"). */
  openSetup(): void {
    this.setupOpened = true;
    this.app.activeKey = null;
  }

  /** Leaves the first-run view for the instance list. */
  closeSetup(): void {
    this.setupOpened = false;
    if (this.setupNeeded) this.setupSkipped = true;
  }

  /** After the set-up wrote profiles: the picker lists them and the window switches to the first. */
  async profilesAdded(written: ConfigWritten): Promise<void> {
    this.setupOpened = false;
    await this.loadProfiles();
    const first = written.profiles[0];
    if (first) await this.select(first);
  }

  /** "Check again" after setting credentials up outside Keyless (keys, `aws configure`). */
  async recheckSetup(): Promise<void> {
    await this.loadProfiles();
    if (!this.setupNeeded) this.reloadWindow();
  }

  /** Everything of the window again, once its credentials work (after a sign-in or an MFA code). */
  private reloadWindow(): void {
    void this.app.refresh();
    void this.loadRegionChoices(this.app.awsProfile);
    void this.check();
  }

  /**
   * Given a 'credentials' error of `awsProfile`: shows the sign-in dialog (IAM Identity Center
   * profiles, or the SSO profile a role chain starts from) or the MFA dialog (mfa_serial) and
   * resolves true once the credentials work; false when the user cancels or when the error is
   * something neither fixes. The same profile asked twice shares one dialog.
   */
  async recover(awsProfile: AwsProfileName, error: ApiError): Promise<boolean> {
    await this.loaded;
    const r = this.recoveryOf(awsProfile, error);
    if (!r) return false;
    return this.start(r);
  }

  /** Opens the dialog the window's current problem calls for (the "Sign in" buttons). */
  recoverCurrent(): Promise<boolean> {
    const r = this.recovery;
    return r ? this.start(r) : Promise.resolve(false);
  }

  /** Asks for a fresh MFA code for the window's profile (the credentials from a code cannot refresh). */
  renewMfa(): Promise<boolean> {
    return this.start({ kind: 'mfa', profile: this.app.awsProfile });
  }

  private start(r: Recovery): Promise<boolean> {
    const key = keyOf(r);
    if (this.pending?.key === key) return this.pending.promise;
    if (this.pending) this.finish(this.pending, false);
    const id = this.nextId++;
    let resolve!: (ok: boolean) => void;
    const promise = new Promise<boolean>((res) => (resolve = res));
    const pending: Pending = { id, key, recovery: r, resolve, promise };
    this.pending = pending;
    const name = effectiveName(r.profile, this.defaultProfile) ?? 'default';
    if (r.kind === 'sso') {
      this.dialog = { kind: 'login', id, awsProfile: r.profile, name, prompt: null, promptAt: 0, error: null };
      void this.runLogin(id);
    } else {
      this.dialog = { kind: 'mfa', id, awsProfile: r.profile, name, profile: this.profileOf(r.profile) };
    }
    return promise;
  }

  private finish(pending: Pending, ok: boolean): void {
    if (this.pending !== pending) return;
    this.pending = null;
    if (this.dialog?.id === pending.id) this.dialog = null;
    if (!ok && pending.recovery.kind === 'sso') void backend.ssoLoginCancel(pending.recovery.profile).catch(() => false);
    pending.resolve(ok);
    if (ok) {
      this.signedOut = null;
      const app = this.app;
      // The window uses these credentials (its own profile, or the SSO profile its role chain starts from).
      const mine = pending.recovery.profile === app.awsProfile;
      if (mine || this.current.status === 'error' || app.loadError?.kind === 'credentials') this.reloadWindow();
    }
  }

  /** One device-flow sign-in of the open login dialog; an error stays in the dialog (Try again). */
  private async runLogin(id: number): Promise<void> {
    const d = this.dialog;
    if (d?.kind !== 'login' || d.id !== id) return;
    d.prompt = null;
    d.error = null;
    const onPrompt = (p: LoginPrompt) => {
      const now = this.dialog;
      if (now?.kind === 'login' && now.id === id) { now.prompt = p; now.promptAt = Date.now(); }
    };
    try {
      await backend.ssoLogin(d.awsProfile, onPrompt);
    } catch (e) {
      const now = this.dialog;
      if (now?.kind === 'login' && now.id === id) now.error = toApiError(e);
      return;
    }
    if (this.pending?.id === id) this.finish(this.pending, true);
  }

  /** The login dialog's "Try again" (an expired code, a network error). */
  retryLogin(): void {
    const d = this.dialog;
    if (d?.kind === 'login') void this.runLogin(d.id);
  }

  /** The MFA dialog's submit: null when the role was assumed (the dialog closes), else the error to show. */
  async submitMfa(input: string): Promise<ApiError | null> {
    const d = this.dialog;
    if (d?.kind !== 'mfa') return null;
    const code = cleanMfaCode(input);
    if (code.length !== 6) return { kind: 'invalid_input', message: 'An MFA code has 6 digits.', hint: null, fix: null };
    try {
      await backend.mfaSubmit(d.awsProfile, code);
    } catch (e) {
      return toApiError(e);
    }
    if (this.pending?.id === d.id) this.finish(this.pending, true);
    return null;
  }

  /** Cancel / Escape in either dialog: stops a sign-in in progress; recover() resolves false. */
  cancelDialog(): void {
    if (this.pending) this.finish(this.pending, false);
    else this.dialog = null;
  }

  /** Sign out of IAM Identity Center (the window's profile): the sign-in ends for the AWS CLI too,
   *  the list goes, and `signedOut` says what was removed. */
  async signOut(): Promise<void> {
    const app = this.app;
    const p = app.awsProfile;
    let done: SignOut;
    try {
      done = await backend.ssoLogout(p);
    } catch (e) {
      this.current = { status: 'error', awsProfile: p, error: toApiError(e) };
      return;
    }
    if (app.awsProfile !== p) return;
    this.signedOut = done;
    app.inventory = null;
    app.loadedAt = null;
    this.current = { status: 'loading', awsProfile: p };
    void app.refresh();
    void this.check();
  }
}
