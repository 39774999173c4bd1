import type { KeyValueStore } from './osUser';

/** localStorage, or null where it is unavailable (tests, locked-down webviews). */
export function storage(): KeyValueStore | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

export function readPref(key: string): string | null {
  try { return storage()?.getItem(`keyless.${key}`) ?? null; } catch { return null; }
}

export function writePref(key: string, value: string): void {
  try { storage()?.setItem(`keyless.${key}`, value); } catch { /* ignore */ }
}

export const FONT_SIZE = { min: 8, max: 32, default: 13.5 } as const;

export function clampFontSize(n: number): number {
  return Math.min(FONT_SIZE.max, Math.max(FONT_SIZE.min, Math.round(n * 2) / 2));
}
