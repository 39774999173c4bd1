// The installable app: `scripts/package.sh --debug` builds the .deb, dpkg installs it on this
// machine, `keyless --version` runs from PATH, the desktop entry and icons are where a desktop
// looks for them, the installed app starts under Xvfb to its first-run view (no AWS identity), and
// `dpkg -r` takes every file away again. Needs root for dpkg, and a machine where no keyless
// package is installed (the test never replaces a real installation): skipped, saying why,
// otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { App } from '../lib/app.js';
import { Lab } from '../lib/lab.js';
import { REPO, freshDir } from '../lib/paths.js';
import { screenshot, sel, waitForApp } from '../lib/ui.js';

const PACKAGE = 'keyless';
const ctx = {};

const installed = () => spawnSync('dpkg', ['-s', PACKAGE], { stdio: 'ignore' }).status === 0;
const why = process.getuid?.() !== 0
  ? 'dpkg -i needs root'
  : installed() ? `a ${PACKAGE} package is already installed here; the test does not replace it` : null;

before(async () => {
  if (why) return;
  const built = execFileSync('bash', [join(REPO, 'scripts', 'package.sh'), '--debug'], {
    encoding: 'utf8', timeout: 3_600_000, stdio: ['ignore', 'pipe', 'inherit'],
  });
  ctx.deb = built.split('\n').find((l) => l.endsWith('.deb'));
  assert.ok(ctx.deb && existsSync(ctx.deb), `package.sh printed no .deb:\n${built}`);
  assert.ok(built.split('\n').some((l) => l.endsWith('.rpm')), `package.sh printed no .rpm:\n${built}`);
  execFileSync('dpkg', ['-i', ctx.deb], { stdio: 'inherit' });
  ctx.files = execFileSync('dpkg', ['-L', PACKAGE], { encoding: 'utf8' }).split('\n').filter(Boolean);
}, { timeout: 3_600_000 });

after(async () => {
  await ctx.app?.close({ saveLogAs: 'package' });
  await ctx.lab?.down();
  if (ctx.awsDir) rmSync(ctx.awsDir, { recursive: true, force: true });
  if (ctx.deb && installed()) execFileSync('dpkg', ['-r', PACKAGE], { stdio: 'inherit' });
}, { timeout: 120_000 });

test('P1. the .deb installs the app, the CLI on PATH, a desktop entry and icons', { skip: why ?? false }, () => {
  for (const bin of ['/usr/bin/keyless', '/usr/bin/keyless-app']) {
    assert.ok(ctx.files.includes(bin), `${bin} in the package:\n${ctx.files.join('\n')}`);
  }
  const version = execFileSync('keyless', ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  assert.match(version, /^keyless \d+\.\d+\.\d+/);
  const desktop = ctx.files.find((f) => f.startsWith('/usr/share/applications/') && f.endsWith('.desktop'));
  assert.ok(desktop, 'a desktop entry');
  const entry = readFileSync(desktop, 'utf8');
  assert.match(entry, /^Exec=keyless-app/m);
  assert.match(entry, /^Name=Keyless$/m);
  assert.ok(ctx.files.some((f) => f.startsWith('/usr/share/icons/hicolor/') && f.endsWith('.png')), 'icons');
});

test('P2. the installed app starts to its first-run view', { skip: why ?? false, timeout: 180_000 }, async () => {
  ctx.lab = await Lab.up();
  ctx.awsDir = freshDir('package-aws');
  const env = { ...ctx.lab.env };
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  ctx.app = await App.launch({
    lab: { env },
    extraEnv: { AWS_CONFIG_FILE: join(ctx.awsDir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(ctx.awsDir, 'credentials') },
    application: '/usr/bin/keyless-app',
    name: 'package',
  });
  await waitForApp(ctx.app.browser);
  const view = await ctx.app.browser.$(sel('first-run'));
  await view.waitForDisplayed({ timeout: 30_000, timeoutMsg: 'the installed app showed no first-run view' });
  await screenshot(ctx.app.browser, 'package-first-run');
});

test('P3. dpkg -r removes every installed file', { skip: why ?? false, timeout: 120_000 }, async () => {
  await ctx.app?.close({ saveLogAs: 'package' });
  ctx.app = null;
  execFileSync('dpkg', ['-r', PACKAGE], { stdio: 'inherit' });
  assert.ok(!installed(), 'still installed');
  const left = ctx.files.filter((f) => f.startsWith('/usr/bin/') || f.endsWith('.desktop')).filter((f) => existsSync(f));
  assert.deepEqual(left, [], 'files left behind');
});
