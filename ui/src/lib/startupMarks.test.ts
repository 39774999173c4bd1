import { afterEach, describe, expect, it } from 'vitest';
import { markOnce } from './startupMarks';

describe('markOnce', () => {
  afterEach(() => performance.clearMarks());

  it('sets a mark the first time and keeps its time on later calls', async () => {
    markOnce('first-row');
    const first = performance.getEntriesByName('first-row', 'mark');
    await new Promise((r) => setTimeout(r, 5));
    markOnce('first-row');
    const after = performance.getEntriesByName('first-row', 'mark');
    expect(first).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(after[0]?.startTime).toBe(first[0]?.startTime);
  });

  it('keeps each name apart', () => {
    markOnce('ui-script');
    markOnce('ui-mounted');
    expect(performance.getEntriesByType('mark').map((m) => m.name)).toEqual(['ui-script', 'ui-mounted']);
  });
});
