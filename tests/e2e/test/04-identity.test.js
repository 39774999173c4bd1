// Identity scenarios I1–I5: who the window is (status bar), switching AWS profiles with the picker,
// IAM Identity Center sign-in approved through the lab, a second account's different list, the
// MFA code of an assume-role profile, sign-out and a cancelled sign-in.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import { replaceText, rows, screenshot, sel, visibleByTestId, waitFor } from '../lib/ui.js';

const MAIN = '123456789012';
const STAGING = '210987654321';
import { approve, chooseProfile, identity, loginCode, openPicker, waitIdentity } from '../lib/identity.js';

const ctx = labAndApp({ name: 'identity', extraEnv: { KEYLESS_NO_BROWSER: '1' } });

/** Visible rows as instance ids once the list holds exactly `want` (ids). */
async function waitRows(browser, want, what) {
  const sorted = [...want].sort();
  return waitFor(browser, async () => {
    const got = (await rows(browser)).filter((r) => r.visible).map((r) => r.id).sort();
    return got.join() === sorted.join() ? got : null;
  }, { timeout: 30_000, what });
}

/** The lab instances of an account (null: main) in the given regions. */
async function labIds(account, regions) {
  return (await ctx.lab.state(account)).filter((i) => regions.includes(i.region)).map((i) => i.id);
}

/** The identity sits inside the status bar (nothing clipped or pushed out of it). */
async function assertInStatusBar(browser) {
  const r = await browser.execute((a, b) => {
    const box = (e) => { const x = e.getBoundingClientRect(); return { top: x.top, bottom: x.bottom }; };
    return { bar: box(document.querySelector(a)), id: box(document.querySelector(b)) };
  }, sel('status-bar'), sel('identity'));
  assert.ok(r.id.top >= r.bar.top && r.id.bottom <= r.bar.bottom, `the identity lies inside the status bar: ${JSON.stringify(r)}`);
}

test('I1. the status bar shows who the lab credentials are; the picker lists the profiles', { timeout: 90_000 }, async () => {
  const { browser } = ctx;
  const id = await waitIdentity(browser, `account ${MAIN}`, (x) => x.account === MAIN);
  assert.match(id.text, /123456789012/);
  assert.match(id.text, /lab-admin/, 'the static key is the IAM user lab-admin');
  assert.doesNotMatch(id.text, /expires/, 'long-term keys do not expire');
  await waitRows(browser, await labIds(null, ctx.regions), 'the main account\'s instances');
  await assertInStatusBar(browser);
  await screenshot(browser, 'identity-status');

  const opts = await openPicker(browser);
  const names = opts.map((o) => o.name);
  for (const n of ['default', 'sso-admin', 'sso-staging', 'ops', 'ops-mfa']) assert.ok(names.includes(n), `the picker offers ${n}: ${names}`);
  const byName = Object.fromEntries(opts.map((o) => [o.name, o]));
  assert.ok(byName.default.selected, 'the default profile is the current one');
  assert.match(byName.default.text, /default/);
  assert.match(byName['sso-admin'].text, /SSO/);
  assert.match(byName['sso-admin'].text, /123456789012.*AdminAccess/);
  assert.match(byName['ops-mfa'].text, /MFA/);
  assert.match(byName['sso-staging'].text, /210987654321/);
  await screenshot(browser, 'aws-profile-picker');
  await browser.keys('Escape');
  await (await browser.$(sel('aws-profile-menu'))).waitForDisplayed({ reverse: true, timeoutMsg: 'Escape did not close the menu' });
});

test('I2. sso-admin: the sign-in dialog shows a code; approved in the lab, the list loads as the SSO role', { timeout: 120_000 }, async () => {
  const { browser } = ctx;
  await chooseProfile(browser, 'sso-admin');
  const code = await loginCode(browser);
  assert.match(code, /^[A-Z0-9]{4}-?[A-Z0-9]{4}$/, `a device user code: ${code}`);
  const dlg = (await (await browser.$(sel('login-dialog'))).getText()).replace(/\s+/g, ' ');
  assert.match(dlg, /sso-admin/, 'the dialog names the profile');
  await screenshot(browser, 'login-dialog');

  await approve(ctx.lab, code);
  await (await browser.$(sel('login-dialog'))).waitForDisplayed({ reverse: true, timeout: 30_000, timeoutMsg: 'the sign-in dialog stayed open after approval' });
  const id = await waitIdentity(browser, 'the SSO role in the main account', (x) => x.account === MAIN && /AdminAccess/.test(x.text));
  assert.match(id.arn, /assumed-role\/AWSReservedSSO_AdminAccess_/);
  assert.match(id.text, /expires in \d/, `the SSO credentials show their expiry: ${id.text}`);
  // sso-admin's region is the lab's first: the list follows the profile's region.
  await waitRows(browser, await labIds(null, [ctx.regions[0]]), `the main account's ${ctx.regions[0]} instances`);
  await screenshot(browser, 'sso-admin-list');
});

test('I3. sso-staging (another account): switching shows a different list; back to default restores it', { timeout: 120_000 }, async () => {
  const { browser } = ctx;
  const before = (await rows(browser)).filter((r) => r.visible).map((r) => r.id);
  await chooseProfile(browser, 'sso-staging');
  // Same sso-session as sso-admin: no second sign-in.
  const id = await waitIdentity(browser, `account ${STAGING}`, (x) => x.account === STAGING);
  assert.match(id.text, /AdminAccess/);
  const staging = await labIds(STAGING, [ctx.regions[1]]);
  assert.ok(staging.length >= 1, 'the staging account has an instance in the second region');
  const got = await waitRows(browser, staging, `the staging account's ${ctx.regions[1]} instances`);
  assert.deepEqual(got.filter((x) => before.includes(x)), [], 'none of the previous account\'s instances');
  const names = (await rows(browser)).filter((r) => r.visible).map((r) => r.text).join(' | ');
  assert.match(names, /staging-api/);
  assert.equal((await visibleByTestId(browser, 'login-dialog')).length, 0, 'no sign-in dialog');
  await screenshot(browser, 'sso-staging-list');

  await chooseProfile(browser, 'default');
  await waitIdentity(browser, 'lab-admin again', (x) => x.account === MAIN && /lab-admin/.test(x.text));
  await waitRows(browser, await labIds(null, ctx.regions), 'the main account\'s instances in both regions again');
});

test('I4. ops-mfa: the MFA dialog refuses a wrong code, 123456 assumes the role', { timeout: 120_000 }, async () => {
  const { browser } = ctx;
  await chooseProfile(browser, 'ops-mfa');
  const input = await browser.$(sel('mfa-code'));
  await input.waitForDisplayed({ timeout: 20_000, timeoutMsg: 'no MFA dialog for ops-mfa' });
  await waitFor(browser, () => browser.execute((s) => document.activeElement === document.querySelector(s), sel('mfa-code')),
    { what: 'the MFA input to have the focus' });
  await input.addValue('000000');
  await browser.keys('Enter');
  const err = await waitFor(browser, async () => {
    const [e] = await visibleByTestId(browser, 'mfa-error');
    return e?.text ? e.text : null;
  }, { timeout: 20_000, what: 'an inline error for a wrong MFA code' });
  // STS's own refusal of the code (the lab's wording), not any text that says "code".
  assert.match(err, /with MFA was denied: MultiFactorAuthentication failed with invalid MFA one time pass code/,
    `the error is AWS's refusal of the code: ${err}`);
  assert.doesNotMatch(err, /6 digits/, 'six digits were typed: the error comes from AWS');
  assert.equal((await visibleByTestId(browser, 'mfa-dialog')).length, 1, 'the dialog stays open');
  await screenshot(browser, 'mfa-wrong-code');

  await replaceText(browser, input, '123456');
  await (await browser.$(sel('mfa-submit'))).click();
  await (await browser.$(sel('mfa-dialog'))).waitForDisplayed({ reverse: true, timeout: 20_000, timeoutMsg: 'the MFA dialog stayed open after the right code' });
  const id = await waitIdentity(browser, 'the ops-mfa role', (x) => /assumed-role\/ops-mfa\//.test(x.arn));
  assert.equal(id.account, MAIN);
  assert.match(id.text, /ops-mfa/);
  await waitRows(browser, await labIds(null, [ctx.regions[0]]), `the main account's ${ctx.regions[0]} instances as ops-mfa`);
  await screenshot(browser, 'mfa-ok');
});

test('I5. sign out of sso-admin: the list offers Sign in; a cancelled sign-in leaves it signed out; the status bar signs in again', { timeout: 120_000 }, async () => {
  const { browser } = ctx;
  await chooseProfile(browser, 'sso-admin');
  await waitIdentity(browser, 'sso-admin signed in', (x) => /AdminAccess/.test(x.text) && x.account === MAIN);
  await (await browser.$(sel('identity'))).click();
  await (await browser.$(sel('identity-details'))).waitForDisplayed({ timeoutMsg: 'no identity details' });
  await screenshot(browser, 'identity-details');
  await (await browser.$(sel('identity-signout'))).click();

  const panel = await browser.$(sel('list-error'));
  await panel.waitForDisplayed({ timeout: 30_000, timeoutMsg: 'no list error after signing out' });
  assert.equal(await panel.getAttribute('data-kind'), 'credentials');
  const recover = await browser.$(sel('list-recover'));
  assert.match(await recover.getText(), /Sign in/);
  await waitFor(browser, async () => (await identity(browser))?.status === 'error', { what: 'the status bar to say not signed in' });
  // An explicit sign-out says so (and what it removed, in the tooltip), not "Not signed in".
  assert.match((await identity(browser)).text, /Signed out/);
  assert.match(await (await browser.$(sel('identity'))).getAttribute('title'), /Signed out of .*removed/s);
  await assertInStatusBar(browser);
  await screenshot(browser, 'signed-out');

  await recover.click();
  await loginCode(browser);
  await (await browser.$(sel('login-cancel'))).click();
  await (await browser.$(sel('login-dialog'))).waitForDisplayed({ reverse: true, timeoutMsg: 'Cancel did not close the sign-in dialog' });
  await panel.waitForDisplayed({ timeoutMsg: 'the list error went away after a cancelled sign-in' });
  assert.equal((await identity(browser)).status, 'error');

  // The status bar's "Signed out — Sign in" signs in too.
  await (await browser.$(sel('identity'))).click();
  await approve(ctx.lab, await loginCode(browser));
  await waitIdentity(browser, 'sso-admin signed in again', (x) => /AdminAccess/.test(x.text));
  await waitRows(browser, await labIds(null, [ctx.regions[0]]), 'the list back after signing in again');
});
