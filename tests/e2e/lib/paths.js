// Where things are: the repo, the cargo target dir, the binaries the tests drive.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = resolve(E2E_DIR, '..', '..');
export const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? resolve(REPO, process.env.CARGO_TARGET_DIR)
  : join(REPO, 'target');
export const APP_BIN = process.env.KEYLESS_APP_BIN
  ? resolve(process.env.KEYLESS_APP_BIN)
  : join(TARGET_DIR, 'debug', 'keyless-app');
export const LAB_BIN = process.env.KEYLESS_LAB_BIN
  ? resolve(process.env.KEYLESS_LAB_BIN)
  : join(TARGET_DIR, 'debug', 'keyless-lab');
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
export const SCREENSHOTS = join(E2E_DIR, 'screenshots');
/** The app's output (through tauri-driver) of each run, for post-mortems. */
export const LOGS = join(E2E_DIR, 'logs');

/** First executable named `name` on PATH (plus ~/.cargo/bin), or null. */
export function which(name) {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  dirs.push(join(homedir(), '.cargo', 'bin'));
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export const TAURI_DRIVER = process.env.TAURI_DRIVER ?? which('tauri-driver');

/** A fresh private directory for one run's state (lab, app HOME). */
export function freshDir(prefix) {
  const base = process.env.KEYLESS_E2E_TMP ?? tmpdir();
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `keyless-e2e-${prefix}-`));
}
