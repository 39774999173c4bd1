/**
 * The last instance list this window loaded, kept in localStorage so the next start shows rows at
 * once (marked as the last run's) while the real listing runs. Display only: the backend connects
 * solely to instances it has itself seen AWS report, or looks them up at connect time.
 * One entry, for the AWS profile and regions of the last successful listing.
 */
import type { Inventory } from '../generated/bindings';
import type { AwsProfileName } from './backend';
import type { KeyValueStore } from './osUser';

const KEY = 'keyless.inventoryCache.v1';
/** Beyond this the entry is not written (localStorage holds about 5 MB per origin). */
const MAX_CHARS = 2_000_000;

export interface CachedInventory {
  awsProfile: AwsProfileName;
  regions: string[];
  /** When it was listed (ms since the epoch). */
  savedAt: number;
  inventory: Inventory;
}

export function readCachedInventory(store: KeyValueStore | null, awsProfile: AwsProfileName): CachedInventory | null {
  let raw: string | null = null;
  try { raw = store?.getItem(KEY) ?? null; } catch { return null; }
  if (!raw) return null;
  try {
    const c = JSON.parse(raw) as Partial<CachedInventory>;
    const ok = c.awsProfile === awsProfile && Array.isArray(c.regions) && typeof c.savedAt === 'number'
      && Array.isArray(c.inventory?.instances) && Array.isArray(c.inventory?.errors);
    return ok ? (c as CachedInventory) : null;
  } catch {
    return null; // an older or damaged entry: as if there were none
  }
}

export function writeCachedInventory(store: KeyValueStore | null, entry: CachedInventory): void {
  const raw = JSON.stringify(entry);
  if (raw.length > MAX_CHARS) return;
  try { store?.setItem(KEY, raw); } catch { /* storage full or disabled: the next start lists without it */ }
}

/** The cache speaks for these regions (same set, any order). */
export function sameRegions(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}
