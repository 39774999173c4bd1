// The finish line in the real app: sign in through the lab's IAM Identity Center, save
// three profiles across two accounts and two regions, restart the app (same HOME: its profiles
// file, known hosts and the AWS CLI's token cache), and reconnect to each with one click.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { App } from '../lib/app.js';
import { approve, chooseProfile, loginCode, waitIdentity } from '../lib/identity.js';
import { Lab } from '../lib/lab.js';
import { connectByClick, editor, fill, pushes, saveEditor, waitRow } from '../lib/profiles.js';
import { roundTrip } from '../lib/session.js';
import { hookTabs, screenshot, sel, visibleByTestId, waitForApp } from '../lib/ui.js';

const REGIONS = ['us-east-1', 'eu-west-1'];
const ENV = { KEYLESS_NO_BROWSER: '1' };
const ctx = {};

before(async () => {
  ctx.lab = await Lab.up();
  ctx.app = await App.launch({ lab: ctx.lab, regions: REGIONS, name: 'finish-line', extraEnv: ENV });
  await waitForApp(ctx.app.browser);
}, { timeout: 180_000 });

after(async () => {
  await ctx.app?.close({ saveLogAs: 'finish-line' });
  await ctx.lab?.down();
}, { timeout: 120_000 });

/** The three profiles: two accounts (via two SSO profiles of one sso-session), two regions. */
async function plan() {
  const db = await ctx.lab.named('db-primary');
  const eu = await ctx.lab.named('eu-web');
  const staging = await ctx.lab.named('staging-web');
  assert.notEqual(db.region, eu.region);
  assert.notEqual(db.account, staging.account);
  return [
    { name: 'prod-db', aws: 'sso-admin', region: db.region, target: db.id, id: db.id },
    { name: 'prod-eu', aws: 'sso-admin', region: eu.region, target: 'Name=eu-web', id: eu.id },
    { name: 'staging-web', aws: 'sso-staging', region: staging.region, target: 'Env=staging,Role=web', id: staging.id },
  ];
}

/** Successful pushes to instance `id` so far. */
async function pushedTo(id) {
  return (await pushes(ctx.lab)).filter((p) => p.instance_id === id && p.outcome === 'Success').length;
}

/** One click connects the profile's tab, named after it. */
async function clickToConnect(browser, name, opts) {
  const index = await connectByClick(browser, name, opts);
  assert.equal((await hookTabs(browser))[index].title, name);
  return index;
}

test('F1. sign in, save three profiles across two accounts and regions, connect to each', { timeout: 240_000 }, async () => {
  const { browser } = ctx.app;
  await chooseProfile(browser, 'sso-admin');
  await approve(ctx.lab, await loginCode(browser));
  await waitIdentity(browser, 'signed in as AdminAccess', (x) => /AdminAccess/.test(x.text));

  for (const p of await plan()) {
    await (await browser.$(sel('profile-new'))).click();
    await editor(browser);
    await (await browser.$(sel('editor-aws-profile'))).selectByAttribute('value', p.aws);
    await fill(browser, { name: p.name, target: p.target, region: p.region, user: ctx.lab.osUser });
    await saveEditor(browser);
    await waitRow(browser, p.name);
  }
  await screenshot(browser, 'finish-line-saved');
  for (const p of await plan()) {
    const pushes = await pushedTo(p.id);
    const index = await clickToConnect(browser, p.name, { trust: true });
    assert.equal(await roundTrip(browser, index, 'whoami'), ctx.lab.osUser);
    assert.equal(await pushedTo(p.id), pushes + 1, `a key was pushed to ${p.name}'s instance ${p.id}`);
  }
});

test('F2. restart the app: the profiles are there, and each reconnects with one click (host keys trusted, still signed in)', { timeout: 240_000 }, async () => {
  const home = ctx.app.home;
  await ctx.app.close({ keepHome: true, saveLogAs: 'finish-line-first' });
  ctx.app = await App.launch({ lab: ctx.lab, regions: REGIONS, name: 'finish-line', extraEnv: ENV, home });
  const { browser } = ctx.app;
  await waitForApp(browser);
  const profiles = await plan();
  for (const p of profiles) await waitRow(browser, p.name);
  await screenshot(browser, 'finish-line-restarted');
  for (const p of profiles) {
    const pushes = await pushedTo(p.id);
    const index = await clickToConnect(browser, p.name, { trust: false });
    assert.deepEqual(await visibleByTestId(browser, 'hostkey-dialog'), [], 'no host-key question: trusted in the first run');
    assert.equal(await roundTrip(browser, index, 'whoami'), ctx.lab.osUser);
    assert.equal(await pushedTo(p.id), pushes + 1, `reconnected to ${p.name}'s instance ${p.id}`);
  }
  await screenshot(browser, 'finish-line-reconnected');
});
