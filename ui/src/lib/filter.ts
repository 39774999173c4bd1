import type { Instance } from '../generated/bindings';

/** Case- and accent-insensitive form: "Zürich" and "zurich" match, "東京" stays itself. */
export function fold(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').toLocaleLowerCase('en-US');
}

export type StateFilter = 'running' | 'stopped' | 'all';

/** Which state chip an instance belongs to: stopping counts as stopped, pending as running. */
export function stateGroup(state: string): Exclude<StateFilter, 'all'> | 'other' {
  switch (state) {
    case 'running': case 'pending': return 'running';
    case 'stopped': case 'stopping': return 'stopped';
    default: return 'other';
  }
}

export type TagFilter = { key: string; value: string | null };

/**
 * Parses the tag filter box: comma-separated `Key=Value` terms (`*` is a wildcard in the value,
 * `Key` alone means "has the tag"). Keys match exactly (case-insensitively), values by glob.
 */
export function parseTagFilter(text: string): TagFilter[] {
  return text.split(',').map((t) => t.trim()).filter(Boolean).map((t) => {
    const eq = t.indexOf('=');
    return eq < 0 ? { key: t, value: null } : { key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim() };
  }).filter((f) => f.key !== '');
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

export function matchesTags(inst: Instance, filters: TagFilter[]): boolean {
  return filters.every((f) => {
    const key = Object.keys(inst.tags).find((k) => fold(k) === fold(f.key));
    if (key === undefined) return false;
    if (f.value === null) return true;
    return globToRegExp(fold(f.value)).test(fold(inst.tags[key] ?? ''));
  });
}

/** Everything the search box looks at: name, id, IPs, tag values, plus type and AZ. */
export function searchText(inst: Instance): string {
  return fold([
    inst.name ?? '', inst.instance_id, inst.private_ip ?? '', inst.public_ip ?? '', inst.ipv6 ?? '',
    inst.instance_type ?? '', inst.availability_zone ?? '', ...Object.values(inst.tags),
  ].join('\u0000'));
}

/** Whitespace-separated terms, all must match (substring, folded). */
export function matchesSearch(inst: Instance, query: string, haystack = searchText(inst)): boolean {
  const terms = fold(query).split(/\s+/).filter(Boolean);
  return terms.every((t) => haystack.includes(t));
}

export type Filters = { search: string; state: StateFilter; tags: string };

export const NO_FILTERS: Filters = { search: '', state: 'all', tags: '' };

export function hasFilters(f: Filters): boolean {
  return f.search.trim() !== '' || f.state !== 'all' || f.tags.trim() !== '';
}

/** Search text cache: the folded haystack of an instance, computed once per Instance object. */
const cache = new WeakMap<Instance, string>();
function cachedText(inst: Instance): string {
  let t = cache.get(inst);
  if (t === undefined) { t = searchText(inst); cache.set(inst, t); }
  return t;
}

export function filterInstances(list: readonly Instance[], f: Filters): Instance[] {
  const tagFilters = parseTagFilter(f.tags);
  const terms = fold(f.search).split(/\s+/).filter(Boolean);
  return list.filter((inst) => {
    if (f.state !== 'all' && stateGroup(inst.state) !== f.state) return false;
    if (tagFilters.length && !matchesTags(inst, tagFilters)) return false;
    if (terms.length) {
      const h = cachedText(inst);
      if (!terms.every((t) => h.includes(t))) return false;
    }
    return true;
  });
}

/** Counts for the state chips. */
export function stateCounts(list: readonly Instance[]): Record<StateFilter, number> {
  const c = { running: 0, stopped: 0, all: list.length };
  for (const i of list) {
    const g = stateGroup(i.state);
    if (g === 'running') c.running++;
    else if (g === 'stopped') c.stopped++;
  }
  return c;
}

/** The label shown for an instance: its Name, else its id. */
export function displayName(inst: Instance): string {
  return inst.name ? inst.name : inst.instance_id;
}
