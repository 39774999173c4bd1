// First run in the real window: the app starts with no AWS identity at all (an AWS config file
// that does not exist yet, no keys in the environment) — only the lab's endpoints — and shows its
// first-run view. Add an IAM Identity Center sign-in: the portal's start URL and region, the device
// sign-in approved in the lab, one account/role ticked and named, and the new profile lists its
// instances without a restart. Then a second sign-in added from the profile picker reuses the
// sso-session (no second code) and writes after the first. Started as the run script starts it
// (KEYLESS_OFFER_LAB=1), the view offers the demo lab, which ends the app with exit code 10.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { App } from '../lib/app.js';
import { approve, loginCode, openPicker, waitIdentity } from '../lib/identity.js';
import { Lab } from '../lib/lab.js';
import { APP_BIN, freshDir } from '../lib/paths.js';
import { replaceText, rows, screenshot, sel, visibleByTestId, waitFor, waitForApp } from '../lib/ui.js';

const REGIONS = ['us-east-1', 'eu-west-1'];
const MAIN = '123456789012';
const STAGING = '210987654321';
const START_URL = 'https://keyless-lab.awsapps.com/start';
const ctx = {};

/** The lab's endpoints, none of its identities: no static key, and AWS files in `dir` (not there yet). */
function noIdentity(dir) {
  const env = { ...ctx.lab.env };
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  return {
    lab: { env },
    extraEnv: {
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      KEYLESS_NO_BROWSER: '1',
    },
  };
}

before(async () => {
  ctx.lab = await Lab.up();
  ctx.awsDir = freshDir('first-run-aws');
  ctx.config = join(ctx.awsDir, 'config');
  ctx.app = await App.launch({ ...noIdentity(ctx.awsDir), regions: REGIONS, name: 'first-run' });
  await waitForApp(ctx.app.browser);
}, { timeout: 180_000 });

after(async () => {
  await ctx.app?.close({ saveLogAs: 'first-run' });
  await ctx.lab?.down();
  if (ctx.awsDir) rmSync(ctx.awsDir, { recursive: true, force: true });
}, { timeout: 120_000 });

/** The role row of the set-up's list. */
const roleRow = (account, role) => `${sel('setup-role')}[data-account="${account}"][data-role="${role}"]`;

/** The set-up's roles as "account/role" → {checked, name}. */
function setupRoles(browser) {
  return browser.execute((s) => Object.fromEntries([...document.querySelectorAll(s)].map((r) => [
    `${r.getAttribute('data-account')}/${r.getAttribute('data-role')}`,
    { checked: r.querySelector('input[type=checkbox]').checked, text: (r.innerText ?? '').replace(/\s+/g, ' ').trim() },
  ])), sel('setup-role'));
}

/** Visible rows as instance ids once they are exactly the lab's instances of `account` in `region`. */
async function waitListed(browser, account, region) {
  const want = (await ctx.lab.state(account)).filter((i) => i.region === region).map((i) => i.id).sort();
  assert.ok(want.length > 0, `the lab has instances of ${account} in ${region}`);
  return waitFor(browser, async () => {
    const got = (await rows(browser)).filter((r) => r.visible).map((r) => r.id).sort();
    return got.join() === want.join() ? got : null;
  }, { timeout: 30_000, what: `the instances of ${account} in ${region}` });
}

test('R1. no AWS identity: the first-run view; an IAM Identity Center sign-in added in it lists instances', { timeout: 180_000 }, async () => {
  const { browser } = ctx.app;
  const view = await browser.$(sel('first-run'));
  await view.waitForDisplayed({ timeout: 30_000, timeoutMsg: 'no first-run view without an AWS identity' });
  const text = (await view.getText()).replace(/\s+/g, ' ');
  assert.match(text, /Add an IAM Identity Center sign-in/);
  assert.match(text, /Use access keys/);
  assert.equal((await visibleByTestId(browser, 'first-run-lab')).length, 0, 'no demo lab: the run script did not start this app');
  assert.equal((await visibleByTestId(browser, 'search')).length, 0, 'the instance list is not shown');
  await screenshot(browser, 'first-run');

  // Access keys: an explanation and AWS's pages, no field for a secret.
  await (await browser.$(sel('first-run-keys'))).click();
  const help = await browser.$(sel('access-keys-help'));
  await help.waitForDisplayed({ timeoutMsg: 'no access-keys help' });
  assert.equal(await browser.execute((s) => document.querySelector(s).querySelectorAll('input').length, sel('access-keys-help')), 0,
    'no input to type a key into');
  assert.ok((await help.$$('a[href^="https://docs.aws.amazon.com/"]')).length >= 2, 'links to the AWS documentation');
  await (await help.$('button=Back')).click();

  await (await browser.$(sel('first-run-sso'))).click();
  await replaceText(browser, await browser.$(sel('setup-start-url')), START_URL);
  await replaceText(browser, await browser.$(sel('setup-sso-region')), REGIONS[0]);
  await screenshot(browser, 'first-run-sso-form');
  await (await browser.$(sel('setup-sign-in'))).click();

  const code = await loginCode(browser);
  assert.match(code, /^[A-Z]{4}-[A-Z]{4}$/, `a device user code: ${code}`);
  await screenshot(browser, 'first-run-sso-code');
  await approve(ctx.lab, code);

  await (await browser.$(sel('setup-accounts'))).waitForDisplayed({ timeout: 30_000, timeoutMsg: 'the portal\'s accounts never showed' });
  const listed = await setupRoles(browser);
  assert.deepEqual(Object.keys(listed).sort(), [
    `${MAIN}/AdminAccess`, `${MAIN}/ReadOnly`, `${STAGING}/AdminAccess`, `${STAGING}/Developer`,
  ].sort(), 'both accounts and all their roles');
  assert.ok(Object.values(listed).every((r) => !r.checked), 'nothing is ticked for the user');
  assert.equal(await (await browser.$(sel('setup-finish'))).isEnabled(), false, 'nothing to add yet');

  await (await browser.$(`${roleRow(STAGING, 'Developer')} ${sel('setup-role-keep')}`)).click();
  const name = await browser.$(`${roleRow(STAGING, 'Developer')} ${sel('setup-profile-name')}`);
  assert.equal(await name.getValue(), `Developer-${STAGING}`, 'the name aws configure sso proposes');
  await replaceText(browser, name, 'staging-dev');
  assert.equal(await (await browser.$(sel('setup-region'))).getValue(), REGIONS[0], 'the portal\'s region by default');
  await screenshot(browser, 'first-run-sso-roles');
  await (await browser.$(sel('setup-finish'))).click();

  // No restart: the view goes, the window switches to the new profile and lists its account.
  await view.waitForDisplayed({ reverse: true, timeout: 30_000, timeoutMsg: 'the first-run view stayed after adding the profile' });
  await waitFor(browser, async () => (await browser.$(sel('aws-profile-picker')).getAttribute('data-current')) === 'staging-dev',
    { what: 'the window to switch to staging-dev' });
  const id = await waitIdentity(browser, 'the Developer role in staging', (x) => x.account === STAGING);
  assert.match(id.arn, /assumed-role\/AWSReservedSSO_Developer_/);
  await waitListed(browser, STAGING, REGIONS[0]);
  await screenshot(browser, 'first-run-listed');

  // What the AWS CLI will read: the sections `aws configure sso` writes, in a new private file.
  assert.equal(readFileSync(ctx.config, 'utf8'),
    `[sso-session keyless-lab]\nsso_start_url = ${START_URL}\nsso_region = ${REGIONS[0]}\n`
    + 'sso_registration_scopes = sso:account:access\n\n'
    + `[profile staging-dev]\nsso_session = keyless-lab\nsso_account_id = ${STAGING}\nsso_role_name = Developer\nregion = ${REGIONS[0]}\n`);
  assert.equal(statSync(ctx.config).mode & 0o777, 0o600);
  const names = (await openPicker(browser)).map((o) => o.name);
  assert.deepEqual(names, ['staging-dev']);
  await browser.keys('Escape');
});

test('R2. a second sign-in from the profile picker reuses the sso-session: no new code, the role added after the first', { timeout: 120_000 }, async () => {
  const { browser } = ctx.app;
  const before = readFileSync(ctx.config, 'utf8');
  const tokens = (await (await fetch(`${ctx.lab.endpoint}/_lab/sso/stats`)).json()).tokens_issued;
  await openPicker(browser);
  await (await browser.$(sel('aws-profile-add'))).click();
  await (await browser.$(sel('first-run'))).waitForDisplayed({ timeoutMsg: 'the set-up did not open from the picker' });
  await replaceText(browser, await browser.$(sel('setup-start-url')), START_URL);
  await replaceText(browser, await browser.$(sel('setup-sso-region')), REGIONS[0]);
  await (await browser.$(sel('setup-sign-in'))).click();

  await (await browser.$(sel('setup-accounts'))).waitForDisplayed({ timeout: 30_000, timeoutMsg: 'the portal was not listed' });
  assert.equal((await visibleByTestId(browser, 'login-code')).length, 0, 'no device code: the sign-in is reused');
  const listed = await setupRoles(browser);
  assert.match(listed[`${STAGING}/Developer`].text, /already the profile staging-dev/);
  await (await browser.$(`${roleRow(MAIN, 'ReadOnly')} ${sel('setup-role-keep')}`)).click();
  await replaceText(browser, await browser.$(sel('setup-region')), REGIONS[1]);
  await (await browser.$(sel('setup-finish'))).click();

  await waitFor(browser, async () => (await browser.$(sel('aws-profile-picker')).getAttribute('data-current')) === `ReadOnly-${MAIN}`,
    { timeout: 30_000, what: `the window to switch to ReadOnly-${MAIN}` });
  await waitIdentity(browser, 'ReadOnly in the main account', (x) => x.account === MAIN && /ReadOnly/.test(x.arn));
  await waitListed(browser, MAIN, REGIONS[1]);

  const after = readFileSync(ctx.config, 'utf8');
  assert.ok(after.startsWith(before), 'the first write is kept byte for byte');
  assert.equal(after.match(/\[sso-session /g).length, 1, 'one sso-session');
  assert.match(after.slice(before.length), new RegExp(`^\\n\\[profile ReadOnly-${MAIN}\\]\\nsso_session = keyless-lab\\n`));
  const backups = readdirSync(ctx.awsDir).filter((f) => f.startsWith('config.keyless-backup-'));
  assert.equal(backups.length, 1, `one backup, of the file as it was: ${backups}`);
  assert.equal(readFileSync(join(ctx.awsDir, backups[0]), 'utf8'), before);
  assert.equal((await (await fetch(`${ctx.lab.endpoint}/_lab/sso/stats`)).json()).tokens_issued, tokens, 'no second sign-in');
});

test('R3. started by the run script, the view offers the demo lab: choosing it ends the app with exit code 10', { timeout: 120_000 }, async () => {
  // The app under a wrapper that records its exit code, as scripts/run.sh reads it.
  const dir = freshDir('first-run-lab');
  const wrapper = join(dir, 'keyless-app-wrapper');
  writeFileSync(wrapper, '#!/bin/sh\n"$KEYLESS_TEST_APP" "$@"\necho $? > "$KEYLESS_TEST_EXIT"\n');
  chmodSync(wrapper, 0o755);
  const exitFile = join(dir, 'exit-code');
  const setup = noIdentity(dir);
  const app = await App.launch({
    ...setup, application: wrapper, regions: REGIONS, name: 'first-run-lab',
    extraEnv: { ...setup.extraEnv, KEYLESS_OFFER_LAB: '1', KEYLESS_TEST_APP: APP_BIN, KEYLESS_TEST_EXIT: exitFile },
  });
  try {
    const { browser } = app;
    await waitForApp(browser);
    const lab = await browser.$(sel('first-run-lab'));
    await lab.waitForDisplayed({ timeout: 30_000, timeoutMsg: 'no "Try the demo lab" in the first-run view' });
    await screenshot(browser, 'first-run-lab-offered');
    // The app may end before WebDriver answers the click: the click's own error counts only if
    // the app did not end.
    let clickError = null;
    await lab.click().catch((e) => { clickError = e; });
    await waitFor(browser, () => existsSync(exitFile), { timeout: 30_000, what: 'the app to end' })
      .catch((e) => { throw clickError ?? e; });
    assert.equal(readFileSync(exitFile, 'utf8').trim(), '10');
  } finally {
    await app.close({ saveLogAs: 'first-run-lab' });
    rmSync(dir, { recursive: true, force: true });
  }
});
