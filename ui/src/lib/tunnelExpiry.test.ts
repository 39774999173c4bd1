import { describe, expect, it } from 'vitest';
import { tunnelCountdown, WARN_BEFORE_MS } from './tunnelExpiry';

describe('tunnel countdown', () => {
  it('is silent until the last five minutes, then counts down to zero', () => {
    const end = 10_000_000;
    expect(tunnelCountdown(end, end - WARN_BEFORE_MS - 1)).toBeNull();
    expect(tunnelCountdown(end, end - WARN_BEFORE_MS)).toBe('5:00');
    expect(tunnelCountdown(end, end - 65_500)).toBe('1:06');
    expect(tunnelCountdown(end, end - 1)).toBe('0:01');
    expect(tunnelCountdown(end, end + 5_000)).toBe('0:00');
  });
});
