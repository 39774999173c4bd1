import { describe, expect, it } from 'vitest';
import { fold, filterInstances, matchesSearch, matchesTags, parseTagFilter, stateCounts, stateGroup, displayName, hasFilters, NO_FILTERS } from './filter';
import { mockInstances } from './mockBackend';

const all = mockInstances(Date.parse('2026-11-20T12:00:00Z'));
const byName = (n: string | null) => all.find((i) => i.name === n)!;
const ids = (list: { instance_id: string }[]) => list.map((i) => i.instance_id);

describe('search', () => {
  it('folds case and accents, keeps CJK', () => {
    expect(fold('Zürich-ÑANDÚ')).toBe('zurich-nandu');
    expect(fold('東京')).toBe('東京');
    expect(fold('café-α')).toBe('cafe-α');
  });

  it('matches name, id, private/public IP and tag values, case-insensitively', () => {
    const web1 = byName('web-1');
    expect(matchesSearch(web1, 'WEB-1')).toBe(true);
    expect(matchesSearch(web1, 'i-0a1b2c3d4e5f60001')).toBe(true);
    expect(matchesSearch(web1, '10.0.1.12')).toBe(true);
    expect(matchesSearch(web1, '54.210')).toBe(true);
    expect(matchesSearch(web1, 'frontend')).toBe(true); // tag value
    expect(matchesSearch(web1, 'db')).toBe(false);
  });

  it('matches non-ASCII names with or without accents', () => {
    const z = byName('Zürich-ñandú-東京');
    for (const q of ['zürich', 'zurich', 'ZURICH', 'ñandú', 'nandu', '東京', 'données']) {
      expect(matchesSearch(z, q), q).toBe(true);
    }
  });

  it('needs every term', () => {
    expect(ids(filterInstances(all, { ...NO_FILTERS, search: 'prod db' }))).toEqual(
      ids(all.filter((i) => i.tags.Env === 'prod' && i.tags.Role === 'db')),
    );
  });

  it('an IP search finds exactly that instance', () => {
    expect(ids(filterInstances(all, { ...NO_FILTERS, search: '10.0.1.40' }))).toEqual([byName('db-primary').instance_id]);
  });

  it('finds unnamed instances by id', () => {
    const unnamed = byName(null);
    expect(ids(filterInstances(all, { ...NO_FILTERS, search: unnamed.instance_id.slice(-5) }))).toEqual([unnamed.instance_id]);
  });
});

describe('state chips', () => {
  it('groups states', () => {
    expect(stateGroup('running')).toBe('running');
    expect(stateGroup('pending')).toBe('running');
    expect(stateGroup('stopping')).toBe('stopped');
    expect(stateGroup('stopped')).toBe('stopped');
    expect(stateGroup('terminated')).toBe('other');
  });

  it('filters and counts', () => {
    const stopped = filterInstances(all, { ...NO_FILTERS, state: 'stopped' });
    expect(stopped.map((i) => i.name).sort()).toEqual(['batch-worker', 'windows-jump']);
    const c = stateCounts(all);
    expect(c.all).toBe(all.length);
    expect(c.running + c.stopped).toBe(all.length);
  });
});

describe('tag filter', () => {
  it('parses Key=Value, Key alone, commas, blanks', () => {
    expect(parseTagFilter(' Env=prod , Role ,, =x')).toEqual([{ key: 'Env', value: 'prod' }, { key: 'Role', value: null }]);
    expect(parseTagFilter('Name=a=b')).toEqual([{ key: 'Name', value: 'a=b' }]);
  });

  it('matches exact values, globs and presence, case-insensitively', () => {
    const web1 = byName('web-1');
    expect(matchesTags(web1, parseTagFilter('env=PROD'))).toBe(true);
    expect(matchesTags(web1, parseTagFilter('Env=pro'))).toBe(false);
    expect(matchesTags(web1, parseTagFilter('Name=web-*'))).toBe(true);
    expect(matchesTags(web1, parseTagFilter('Team'))).toBe(true);
    expect(matchesTags(web1, parseTagFilter('Owner'))).toBe(false);
    expect(matchesTags(web1, parseTagFilter('Env=prod,Role=db'))).toBe(false);
  });

  it('combines with search and state', () => {
    const got = filterInstances(all, { search: 'web', state: 'running', tags: 'Env=prod' });
    expect(got.map((i) => i.name).sort()).toEqual(['web-1', 'web-2']);
    expect(hasFilters({ search: '', state: 'all', tags: ' ' })).toBe(false);
    expect(hasFilters({ search: '', state: 'running', tags: '' })).toBe(true);
  });
});

it('displayName falls back to the id for null and empty names', () => {
  expect(displayName(byName(null))).toBe(byName(null).instance_id);
  expect(displayName(byName(''))).toBe(byName('').instance_id);
  expect(displayName(byName('web-1'))).toBe('web-1');
});
