import { describe, expect, it } from 'vitest';
import type { Instance } from '../generated/bindings';
import { readCachedInventory, sameRegions, writeCachedInventory } from './inventoryCache';

class MemoryStore {
  map = new Map<string, string>();
  getItem(k: string) { return this.map.get(k) ?? null; }
  setItem(k: string, v: string) { this.map.set(k, v); }
}

const inst = (id: string) => ({ instance_id: id, region: 'us-east-1' }) as unknown as Instance;
const entry = (awsProfile: string | null) => ({
  awsProfile, regions: ['us-east-1', 'eu-west-1'], savedAt: 1_700_000_000_000,
  inventory: { instances: [inst('i-1'), inst('i-2')], errors: [] },
});

describe('inventory cache', () => {
  it('gives back the last listing for the same AWS profile only', () => {
    const s = new MemoryStore();
    writeCachedInventory(s, entry('prod'));
    expect(readCachedInventory(s, 'prod')?.inventory.instances.map((i) => i.instance_id)).toEqual(['i-1', 'i-2']);
    expect(readCachedInventory(s, null)).toBeNull();
    expect(readCachedInventory(s, 'dev')).toBeNull();
  });

  it('treats a damaged or foreign entry as none', () => {
    const s = new MemoryStore();
    s.setItem('keyless.inventoryCache.v1', '{not json');
    expect(readCachedInventory(s, null)).toBeNull();
    s.setItem('keyless.inventoryCache.v1', JSON.stringify({ awsProfile: null, regions: 'x', savedAt: 1 }));
    expect(readCachedInventory(s, null)).toBeNull();
    expect(readCachedInventory(null, null)).toBeNull();
  });

  it('does not write an entry too large for localStorage, and survives a full store', () => {
    const s = new MemoryStore();
    const big = entry(null);
    big.inventory.instances = Array.from({ length: 40_000 }, (_, i) => inst(`i-${'0'.repeat(40)}${i}`));
    writeCachedInventory(s, big);
    expect(s.map.size).toBe(0);
    const full = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); } };
    expect(() => writeCachedInventory(full, entry(null))).not.toThrow();
  });

  it('compares region sets in any order', () => {
    expect(sameRegions(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(sameRegions(['a'], ['a', 'b'])).toBe(false);
  });
});
