import { describe, expect, it } from 'vitest';
import { formatMs, fullTime, relativeTime } from './time';

const now = Date.parse('2026-11-20T12:00:00Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

describe('relativeTime', () => {
  it('formats past times in the largest unit', () => {
    expect(relativeTime(ago(10_000), now)).toBe('just now');
    expect(relativeTime(ago(60_000), now)).toBe('1 minute ago');
    expect(relativeTime(ago(25 * 60_000), now)).toBe('25 minutes ago');
    expect(relativeTime(ago(3 * 3_600_000), now)).toBe('3 hours ago');
    expect(relativeTime(ago(86_400_000), now)).toBe('1 day ago');
    expect(relativeTime(ago(9 * 86_400_000), now)).toBe('1 week ago');
    expect(relativeTime(ago(41 * 86_400_000), now)).toBe('1 month ago');
    expect(relativeTime(ago(800 * 86_400_000), now)).toBe('2 years ago');
  });

  it('handles the future, null and garbage', () => {
    expect(relativeTime(new Date(now + 2 * 3_600_000).toISOString(), now)).toBe('in 2 hours');
    expect(relativeTime(null, now)).toBe('');
    expect(relativeTime('not a date', now)).toBe('');
  });
});

it('fullTime gives UTC and local', () => {
  expect(fullTime('2026-11-20T12:00:00Z')).toMatch(/^2026-11-20 12:00:00 UTC — local /);
  expect(fullTime(null)).toBe('');
  expect(fullTime('garbage')).toBe('garbage');
});

it('formatMs', () => {
  expect(formatMs(3.4)).toBe('3 ms');
  expect(formatMs(240)).toBe('240 ms');
  expect(formatMs(1234)).toBe('1.2 s');
  expect(formatMs(12_345)).toBe('12 s');
});
