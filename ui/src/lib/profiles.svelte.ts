// Saved connection profiles: the list, its load error, save / delete (with undo) / duplicate /
// regroup, and the connect flow (resolve first, so a stopped or gone instance says so before any
// key is pushed; several matches → the user picks). Pure rules live in ./profileList.
import { untrack } from 'svelte';
import type { ApiError, AppInfo, AwsProfile, Instance, Profile } from '../generated/bindings';
import * as backend from './backend';
import type { AwsProfileName, SessionOrigin } from './backend';
import { toApiError } from './errors';
import { osUserFor } from './osUser';
import { storage } from './prefs';
import { connectRequestFor, duplicateProfile, profileFromInstance } from './profileList';
import type { SessionTab } from './session.svelte';
import type { TabRequest } from './tabRequest';

/** What ProfilesState needs of the app's identity state (ui/src/lib/identity.svelte.ts). */
export interface IdentityLike {
  /** Shows the sign-in / MFA dialog for a `credentials` error; true once credentials work. */
  recover(awsProfile: string | null, error: ApiError): Promise<boolean>;
  /** The ~/.aws/config profiles (the editor's choices). */
  readonly awsProfiles: AwsProfile[];
}

/** What ProfilesState needs of the app (AppState). */
export interface ProfilesHost {
  readonly info: AppInfo | null;
  readonly awsProfile: AwsProfileName;
  readonly tabs: SessionTab[];
  readonly identity?: IdentityLike;
  openTab(request: TabRequest, origin?: SessionOrigin): SessionTab;
}

/** The editor dialog: a new profile (previous null) or an edit of `previous`. */
export type EditorState = { previous: string | null; initial: Profile; title: string };
/** Several running instances match a profile: the user picks one. */
export type PickerState = { profile: Profile; candidates: Instance[] };
/** The last deleted profile, restorable for UNDO_MS. */
export type UndoState = { profile: Profile };

export const UNDO_MS = 8000;

export class ProfilesState {
  list = $state<Profile[]>([]);
  loaded = $state(false);
  /** profiles_list failed (e.g. a broken profiles file: file:line:col, and a kept copy in the hint). */
  loadError = $state<ApiError | null>(null);
  /** A failed delete / undo / regroup / duplicate, shown in the sidebar until dismissed. */
  actionError = $state<ApiError | null>(null);
  /** Why connecting through a profile did not start (by profile name), shown on its row. */
  errors = $state<Record<string, ApiError>>({});
  /** The profile being resolved right now. */
  busy = $state<string | null>(null);
  picker = $state<PickerState | null>(null);
  editor = $state<EditorState | null>(null);
  undo = $state<UndoState | null>(null);
  /** Asks the sidebar to select (and show) this profile, e.g. a fresh duplicate. */
  focusName = $state<string | null>(null);

  private readonly host: ProfilesHost;
  private undoTimer: ReturnType<typeof setTimeout> | null = null;
  private loadSeq = 0;
  private watching = false;
  private seenConnects = new Set<string>();

  constructor(host: ProfilesHost) {
    this.host = host;
  }

  readonly names = $derived(new Set(this.list.map((p) => p.name)));

  /** The ~/.aws/config profiles (the editor's choices); empty until the identity state has them. */
  get awsProfiles(): AwsProfile[] {
    return this.host.identity?.awsProfiles ?? [];
  }

  find(name: string): Profile | undefined {
    return this.list.find((p) => p.name === name);
  }

  async load(): Promise<void> {
    this.watchConnects();
    const seq = ++this.loadSeq;
    try {
      const list = await backend.profilesList();
      if (seq !== this.loadSeq) return;
      this.list = list;
      this.loadError = null;
    } catch (e) {
      if (seq !== this.loadSeq) return;
      this.loadError = toApiError(e);
    } finally {
      if (seq === this.loadSeq) this.loaded = true;
    }
  }

  /** A session opened through a profile connected: the backend set its last_used, so reload
   *  (Recent follows). Every (re)connect counts once. */
  private watchConnects(): void {
    if (this.watching) return;
    this.watching = true;
    $effect.root(() => {
      $effect(() => {
        const fresh = this.host.tabs
          .filter((t) => t.origin.profile !== null && t.status === 'connected')
          .map((t) => `${t.key}:${t.attempts}`)
          .filter((k) => !this.seenConnects.has(k));
        if (!fresh.length) return;
        for (const k of fresh) this.seenConnects.add(k);
        untrack(() => void this.load());
      });
    });
  }

  private apply(list: Profile[]): void {
    this.loadSeq++; // a load in flight is older than this answer
    this.list = list;
    this.loadError = null;
    this.loaded = true;
  }

  private clearError(...names: Array<string | null>): void {
    const next = { ...this.errors };
    let changed = false;
    for (const n of names) if (n !== null && n in next) { delete next[n]; changed = true; }
    if (changed) this.errors = next;
  }

  // --- editing ----------------------------------------------------------------------------

  /** Adds (previous null) or replaces `previous`; rejects with the backend's ApiError (the
   *  editor shows it and keeps what was typed). */
  async save(previous: string | null, profile: Profile): Promise<void> {
    const list = await backend.profileSave(previous, profile);
    this.apply(list);
    this.clearError(previous, profile.name);
    this.focusName = profile.name;
  }

  newProfile(group: string | null = null): void {
    this.editor = {
      previous: null, title: 'New profile',
      initial: { name: '', group, target: '', aws_profile: this.host.awsProfile, region: null, user: null, port: null, via: null, notes: null, last_used: null },
    };
  }

  edit(name: string): void {
    const p = this.find(name);
    if (p) this.editor = { previous: p.name, initial: { ...p }, title: `Edit “${p.name}”` };
  }

  /** "Save as profile" from an instance row, or from a session tab (its user/port/via too). */
  saveAs(inst: Instance, request: TabRequest | null = null, awsProfile: AwsProfileName = this.host.awsProfile): void {
    this.editor = {
      previous: null, title: 'Save as profile',
      initial: profileFromInstance(inst, awsProfile, this.names, request),
    };
  }

  /** Saves a copy ("name (copy)") right away and selects it. */
  async duplicate(name: string): Promise<void> {
    const p = this.find(name);
    if (!p) return;
    const copy = duplicateProfile(p, this.names);
    try {
      await this.save(null, copy);
      this.actionError = null;
    } catch (e) {
      this.actionError = toApiError(e);
    }
  }

  /** Drag-and-drop regroup (group null: ungrouped). */
  async moveToGroup(name: string, group: string | null): Promise<void> {
    const p = this.find(name);
    if (!p || (p.group ?? null) === group) return;
    try {
      await this.save(name, { ...p, group });
      this.actionError = null;
    } catch (e) {
      this.actionError = toApiError(e);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      const removed = await backend.profileDelete(name);
      this.apply(this.list.filter((p) => p.name !== name));
      this.clearError(name);
      this.actionError = null;
      this.offerUndo(removed);
    } catch (e) {
      this.actionError = toApiError(e);
    }
  }

  private offerUndo(profile: Profile): void {
    if (this.undoTimer) clearTimeout(this.undoTimer);
    this.undo = { profile };
    this.undoTimer = setTimeout(() => this.dismissUndo(), UNDO_MS);
  }

  dismissUndo(): void {
    if (this.undoTimer) clearTimeout(this.undoTimer);
    this.undoTimer = null;
    this.undo = null;
  }

  /** Saves the deleted profile back. */
  async undoDelete(): Promise<void> {
    const u = this.undo;
    if (!u) return;
    this.dismissUndo();
    try {
      await this.save(null, u.profile);
      this.actionError = null;
    } catch (e) {
      this.actionError = toApiError(e);
      // Nothing lost: offer it again.
      this.offerUndo(u.profile);
    }
  }

  // --- connecting -------------------------------------------------------------------------

  /** Resolve, then connect (one match), pick (several) or show why not (on the profile). */
  async connect(name: string): Promise<void> {
    const p = this.find(name);
    if (!p || this.busy === name) return;
    this.clearError(name);
    this.busy = name;
    try {
      let candidates: Instance[];
      try {
        candidates = await backend.profileResolve(name);
      } catch (e) {
        const err = toApiError(e);
        const identity = this.host.identity;
        if (err.kind !== 'credentials' || !identity) throw err;
        // Sign in (or enter the MFA code), then try once more.
        if (!(await identity.recover(p.aws_profile ?? null, err))) throw err;
        candidates = await backend.profileResolve(name);
      }
      if (candidates.length === 1) this.open(p, candidates[0]!);
      else if (candidates.length > 1) this.picker = { profile: p, candidates };
      else throw noneRunning(p.target);
    } catch (e) {
      this.errors = { ...this.errors, [name]: toApiError(e) };
    } finally {
      this.busy = null;
    }
  }

  /** The picker's choice. */
  pick(inst: Instance): void {
    const pk = this.picker;
    this.picker = null;
    if (pk) this.open(pk.profile, inst);
  }

  dismissError(name: string): void {
    this.clearError(name);
  }

  private open(p: Profile, inst: Instance): SessionTab {
    const store = storage();
    const request = connectRequestFor(p, inst, {
      osUser: (i) => osUserFor(i, store),
      port: this.host.info?.default_port ?? 22,
    });
    return this.host.openTab(request, { awsProfile: p.aws_profile ?? null, profile: p.name });
  }
}

/** The backend answers an empty match with its own error; this covers an empty list anyway. */
function noneRunning(target: string): ApiError {
  return { kind: 'instance_not_found', message: `no running instance matches '${target}'`, hint: null, fix: null };
}
