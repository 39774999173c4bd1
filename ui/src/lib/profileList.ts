// Saved connection profiles, the pure part: grouping, search, recent, duplicate names, the
// editor's form ⇄ Profile conversion and its checks (the same rules as keyless-core's
// profiles/model.rs and profiles/target.rs, so a bad value is caught before the backend sees it).
import type { Instance, Profile, Via } from '../generated/bindings';
import { defaultVia, validOsUser } from './osUser';
import type { TabRequest } from './tabRequest';

export const NAME_MAX = 64;
export const NOTES_MAX = 4096;
export const RECENT_MAX = 5;

/** Profiles of one sidebar folder; `name` null: the ungrouped ones. */
export type ProfileGroup = { name: string | null; profiles: Profile[] };

const byName = (a: Profile, b: Profile) =>
  a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.name.localeCompare(b.name);

/** Named groups (A–Z) first, then the ungrouped profiles; names A–Z inside each. Empty groups
 *  are left out, except that `keepUngrouped` always yields the ungrouped entry (a drop target). */
export function groupProfiles(profiles: readonly Profile[], keepUngrouped = false): ProfileGroup[] {
  const groups = new Map<string, Profile[]>();
  const loose: Profile[] = [];
  for (const p of profiles) {
    if (p.group) {
      const list = groups.get(p.group);
      if (list) list.push(p);
      else groups.set(p.group, [p]);
    } else loose.push(p);
  }
  const out: ProfileGroup[] = [...groups.entries()]
    .sort(([a], [b]) => a.toLowerCase().localeCompare(b.toLowerCase()) || a.localeCompare(b))
    .map(([name, list]) => ({ name, profiles: list.sort(byName) }));
  if (loose.length || keepUngrouped) out.push({ name: null, profiles: loose.sort(byName) });
  return out;
}

/** The distinct group names, A–Z (the editor's suggestions). */
export function groupNames(profiles: readonly Profile[]): string[] {
  return [...new Set(profiles.map((p) => p.group).filter((g): g is string => !!g))]
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
}

/** Every word of the query (case-insensitive) occurs in one of name, group, target, notes,
 *  region or AWS profile. An empty query matches everything. */
export function matchesSearch(p: Profile, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = [p.name, p.group, p.target, p.notes, p.region, p.aws_profile]
    .filter((s): s is string => !!s)
    .map((s) => s.toLowerCase());
  return words.every((w) => hay.some((h) => h.includes(w)));
}

export function searchProfiles(profiles: readonly Profile[], query: string): Profile[] {
  return profiles.filter((p) => matchesSearch(p, query));
}

/** The most recently used profiles (those with a last_used), newest first. */
export function recentProfiles(profiles: readonly Profile[], max = RECENT_MAX): Profile[] {
  const t = (p: Profile) => (p.last_used ? Date.parse(p.last_used) : NaN);
  return profiles
    .filter((p) => !Number.isNaN(t(p)))
    .sort((a, b) => t(b) - t(a) || byName(a, b))
    .slice(0, max);
}

/** "web" → "web (copy)", then "web (copy 2)", … — a name no profile has, at most 64 characters.
 *  Duplicating a copy counts on from its base name ("web (copy)" → "web (copy 2)"). */
export function duplicateName(name: string, taken: Iterable<string>): string {
  const names = new Set(taken);
  const base = name.replace(/ \(copy(?: \d+)?\)$/, '');
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? ' (copy)' : ` (copy ${n})`;
    const room = NAME_MAX - [...suffix].length;
    const chars = [...base];
    const head = chars.length > room ? chars.slice(0, room).join('').trimEnd() : base;
    const candidate = head + suffix;
    if (!names.has(candidate)) return candidate;
  }
}

/** A copy of `p` under a fresh name, never used yet. */
export function duplicateProfile(p: Profile, taken: Iterable<string>): Profile {
  return { ...p, name: duplicateName(p.name, taken), last_used: null };
}

// ---------------------------------------------------------------------------------------------
// Checks (model.rs / target.rs / validate.rs). Each returns an error message or null.

const chars = (s: string) => [...s].length;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function label(what: string, value: string, max: number): string | null {
  const n = chars(value);
  if (n === 0) return `The ${what} is required.`;
  if (n > max) return `At most ${max} characters (this has ${n}).`;
  if (value.trim() !== value) return `No spaces at the start or end.`;
  if (CONTROL.test(value)) return `No control characters.`;
  return null;
}

export function checkName(name: string): string | null {
  const e = label('name', name, NAME_MAX);
  if (e) return e;
  if (name.startsWith('@') || name.startsWith('-')) return `Start the name with a letter or digit, not “${name[0]}”.`;
  return null;
}

export function checkGroup(group: string): string | null {
  return group === '' ? null : label('group', group, NAME_MAX);
}

const INSTANCE_ID = /^i-[0-9a-f]+$/;

/** `^i-[a-f0-9]+$`, 10–32 characters (what SendSSHPublicKey accepts). */
export function isInstanceId(s: string): boolean {
  return s.length >= 10 && s.length <= 32 && INSTANCE_ID.test(s);
}

/** What a target means: an instance id, or tag pairs (a bare word is Name=word). */
export type ParsedTarget = { kind: 'id'; id: string } | { kind: 'tags'; tags: Array<[string, string]> };

export function parseTarget(text: string): { ok: ParsedTarget } | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'The target is required: an instance id (i-0123…) or tags such as Name=web-*.' };
  if (!t.includes('=')) {
    if (t.startsWith('i-') && /^[0-9a-fA-F]*$/.test(t.slice(2))) {
      return isInstanceId(t) ? { ok: { kind: 'id', id: t } }
        : { error: `“${t}” is not an instance id: they look like i-0123456789abcdef0 (lower-case hex).` };
    }
    if (t.includes(',')) return { error: 'A bare name cannot contain “,”: use Key=Value pairs.' };
    return { ok: { kind: 'tags', tags: [['Name', t]] } };
  }
  const tags: Array<[string, string]> = [];
  for (const part of t.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { error: `“${part.trim()}” is not Key=Value.` };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!key) return { error: `“${part.trim()}” has no tag key.` };
    if (new TextEncoder().encode(key).length > 128 || new TextEncoder().encode(value).length > 256) {
      return { error: 'Tag keys are at most 128 characters, values 256.' };
    }
    if (tags.some(([k]) => k === key)) return { error: `The tag “${key}” appears twice.` };
    tags.push([key, value]);
  }
  return { ok: { kind: 'tags', tags } };
}

export function checkTarget(target: string): string | null {
  const r = parseTarget(target);
  return 'error' in r ? r.error : null;
}

export function checkAwsProfile(name: string): string | null {
  if (name === '') return null;
  if (new TextEncoder().encode(name).length > 128 || /[\s\]]/.test(name) || CONTROL.test(name)) {
    return 'A profile name of ~/.aws/config, without spaces.';
  }
  return null;
}

export function checkRegion(region: string): string | null {
  if (region === '') return null;
  const parts = region.split('-');
  const ok = parts.length >= 3 && parts[0]!.length === 2
    && parts.slice(0, -1).every((p) => /^[a-z]+$/.test(p)) && /^[0-9]+$/.test(parts[parts.length - 1]!);
  return ok ? null : 'A region such as us-east-1 or eu-west-1.';
}

export function checkUser(user: string): string | null {
  if (user === '') return null;
  return validOsUser(user) && !user.startsWith('-') ? null : '1–32 letters, digits, “.”, “_” or “-”, e.g. ec2-user.';
}

export function checkPort(port: string): string | null {
  if (port.trim() === '') return null;
  const n = Number(port);
  return /^\d+$/.test(port.trim()) && n >= 1 && n <= 65535 ? null : 'A port from 1 to 65535.';
}

// ---------------------------------------------------------------------------------------------
// The editor's form.

/** What the editor edits: text fields as typed (empty = unset). */
export type ProfileForm = {
  name: string; group: string; target: string; aws_profile: string; region: string;
  user: string; port: string; via: '' | Via; max_tunnel_duration: string; notes: string;
};
export type FormErrors = Partial<Record<keyof ProfileForm, string>>;

export const EMPTY_FORM: ProfileForm = {
  name: '', group: '', target: '', aws_profile: '', region: '', user: '', port: '', via: '', max_tunnel_duration: '', notes: '',
};

export function formFromProfile(p: Partial<Profile>): ProfileForm {
  return {
    name: p.name ?? '', group: p.group ?? '', target: p.target ?? '', aws_profile: p.aws_profile ?? '',
    region: p.region ?? '', user: p.user ?? '', port: p.port == null ? '' : String(p.port),
    via: p.via ?? '', max_tunnel_duration: p.max_tunnel_duration == null ? '' : String(p.max_tunnel_duration),
    notes: p.notes ?? '',
  };
}

/** The profile a (valid) form describes; `lastUsed` carries over from the edited profile. */
export function profileFromForm(f: ProfileForm, lastUsed: string | null = null): Profile {
  const opt = (s: string) => (s.trim() === '' ? null : s.trim());
  const port = f.port.trim() === '' ? null : Number(f.port);
  return {
    name: f.name.trim(),
    group: opt(f.group),
    target: parseTargetText(f.target),
    aws_profile: opt(f.aws_profile),
    region: opt(f.region),
    user: opt(f.user),
    port,
    via: f.via === '' ? null : f.via,
    max_tunnel_duration: f.max_tunnel_duration.trim() === '' ? null : Number(f.max_tunnel_duration),
    notes: f.notes.trim() === '' ? null : f.notes.replace(/\s+$/, ''),
    last_used: lastUsed,
  };
}

/** The target as stored: trimmed, tag pairs without spaces around "=" and ",". */
function parseTargetText(text: string): string {
  const r = parseTarget(text);
  if ('error' in r) return text.trim();
  if (r.ok.kind === 'id') return r.ok.id;
  return text.includes('=') ? r.ok.tags.map(([k, v]) => `${k}=${v}`).join(',') : text.trim();
}

/**
 * Field errors of a form; names are trimmed first (the editor trims what it saves). `taken`:
 * the other profiles' names (a clash is an error), `previous`: the profile being edited.
 */
export function validateForm(f: ProfileForm, taken: Iterable<string>, previous: string | null = null): FormErrors {
  const errors: FormErrors = {};
  const name = f.name.trim();
  const e = checkName(name);
  if (e) errors.name = e;
  else if (name !== previous && new Set(taken).has(name)) errors.name = `A profile named “${name}” already exists.`;
  const set = (k: keyof ProfileForm, msg: string | null) => { if (msg) errors[k] = msg; };
  set('group', checkGroup(f.group.trim()));
  set('target', checkTarget(f.target));
  set('aws_profile', checkAwsProfile(f.aws_profile.trim()));
  set('region', checkRegion(f.region.trim()));
  set('user', checkUser(f.user.trim()));
  set('port', checkPort(f.port));
  set('max_tunnel_duration', checkTunnelDuration(f.max_tunnel_duration));
  if (chars(f.notes) > NOTES_MAX) errors.notes = `At most ${NOTES_MAX} characters.`;
  return errors;
}

/** `maxTunnelDuration` in whole seconds, 1–3600 (what keyless-core validates); empty: AWS's hour. */
export function checkTunnelDuration(secs: string): string | null {
  if (secs.trim() === '') return null;
  const n = Number(secs);
  return /^\d+$/.test(secs.trim()) && n >= 1 && n <= 3600 ? null : 'Whole seconds from 1 to 3600 (tunnels last at most an hour).';
}

// ---------------------------------------------------------------------------------------------
// Instances ⇄ profiles.

/** A new profile's starting point from an instance (and the session it was saved from). */
export function profileFromInstance(
  inst: Instance, awsProfile: string | null, taken: Iterable<string>,
  request: Pick<TabRequest, 'os_user' | 'port' | 'via'> | null = null,
): Profile {
  const names = new Set(taken);
  const base = (inst.name ?? '').trim().replace(/^[@-]+/, '').trim() || inst.instance_id;
  const first = [...base].slice(0, NAME_MAX).join('').trim();
  return {
    name: names.has(first) ? duplicateName(first, names) : first,
    group: null,
    target: inst.instance_id,
    aws_profile: awsProfile,
    region: inst.region,
    user: request?.os_user ?? null,
    port: request?.port ?? null,
    via: request?.via ?? null,
    notes: null,
    last_used: null,
  };
}

/** What to connect with: the profile's settings, else the usual defaults for the instance. */
export function connectRequestFor(
  p: Profile, inst: Instance, defaults: { osUser: (i: Instance) => string; port: number },
): TabRequest {
  return {
    instance: inst,
    os_user: p.user ?? defaults.osUser(inst),
    port: p.port ?? defaults.port,
    via: p.via ?? defaultVia(inst),
  };
}

/**
 * The badge of an id-target profile, from the loaded inventory: the instance's state when it is
 * there and not running ("stopped", …); "not found" when the inventory covers the profile's
 * region for the same AWS profile (`covers`) and the instance is not in it; else null.
 */
export function instanceBadge(
  p: Profile, inventory: readonly Instance[], covers: ((p: Profile) => boolean) | null = null,
): string | null {
  const t = p.target.trim();
  if (!isInstanceId(t)) return null;
  const inst = inventory.find((i) => i.instance_id === t && (!p.region || i.region === p.region));
  if (inst) return inst.state !== 'running' ? inst.state : null;
  return covers?.(p) ? 'not found' : null;
}

/** The subdued second line of a sidebar row: target · region. */
export function profileSubtitle(p: Profile): string {
  return [p.target, p.region].filter(Boolean).join(' · ');
}
