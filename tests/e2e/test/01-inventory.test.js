// Scenarios 1–4: the lab's instances in the list, search, a failed region's banner, and a restart
// that shows the last run's list at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { App } from '../lib/app.js';
import { labAndApp } from '../lib/fixture.js';
import { banners, rows, screenshot, sel, setSearch, waitFor, waitForApp } from '../lib/ui.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const ctx = labAndApp({ name: 'inventory' });

/** Lab instances in the app's selected regions. */
async function expected() {
  return (await ctx.lab.state()).filter((i) => ctx.regions.includes(i.region));
}

test('1. every lab instance of the selected regions has a row with its name and state', { timeout: 60_000 }, async () => {
  const { browser } = ctx;
  const want = await expected();
  assert.ok(want.length >= 11, `the lab reports ${want.length} instances`);
  const got = await waitFor(browser, async () => {
    const r = await rows(browser);
    return r.length >= want.length ? r : null;
  }, { timeout: 30_000, what: `${want.length} instance rows` });
  await screenshot(browser, 'list');
  const byId = new Map(got.map((r) => [r.id, r]));
  const problems = [];
  for (const i of want) {
    const r = byId.get(i.id);
    if (!r) { problems.push(`${i.id} (${i.name}) has no row`); continue; }
    if (r.state !== i.state) problems.push(`${i.id} (${i.name}): data-state=${r.state}, lab says ${i.state}`);
    if (i.name && !r.text.includes(i.name)) problems.push(`${i.id}: row text lacks its name ${i.name}: "${r.text}"`);
    if (!r.visible && got.length < 50) problems.push(`${i.id} (${i.name}) row not visible`);
  }
  const extra = got.filter((r) => !want.some((i) => i.id === r.id)).map((r) => r.id);
  if (extra.length) problems.push(`rows of unknown instances: ${extra.join(', ')}`);
  assert.deepEqual(problems, []);
});

test('2. typing in search narrows the list (name with non-ASCII, then an IP)', { timeout: 60_000 }, async () => {
  const { browser, lab } = ctx;
  const cafe = await lab.named('café-α');
  await setSearch(browser, 'café');
  const r1 = await waitFor(browser, async () => {
    const r = (await rows(browser)).filter((x) => x.visible);
    return r.length === 1 && r[0].id === cafe.id ? r : null;
  }, { what: `exactly the café-α row (${cafe.id}) after searching "café"` });
  assert.equal(r1[0].state, 'running');
  await screenshot(browser, 'search-cafe');

  const db = await lab.named('db-primary');
  await setSearch(browser, db.private_ip);
  await waitFor(browser, async () => {
    const r = (await rows(browser)).filter((x) => x.visible);
    return r.length === 1 && r[0].id === db.id ? r : null;
  }, { what: `exactly the db-primary row after searching its IP ${db.private_ip}` });
  await screenshot(browser, 'search-ip');

  await setSearch(browser, '');
  const all = await expected();
  await waitFor(browser, async () => (await rows(browser)).filter((x) => x.visible).length === all.length,
    { what: `all ${all.length} rows back after clearing the search` });
});

test('3. a region the credentials may not list shows its banner; the other region still lists', { timeout: 60_000 }, async () => {
  const { browser, lab } = ctx;
  assert.deepEqual((await banners(browser)).filter((b) => b.visible), [], 'no banner before the fault');
  await lab.fault('deny-region', 'eu-west-1');
  await (await browser.$(sel('refresh'))).click();
  const b = await waitFor(browser, async () => {
    const bs = (await banners(browser)).filter((x) => x.visible && x.region === 'eu-west-1');
    return bs.length ? bs : null;
  }, { timeout: 30_000, what: 'a visible region-banner for eu-west-1' });
  // AWS's own code and the action that was refused (not merely the region's name).
  const [banner] = await browser.$$(`${sel('region-banner')}[data-region="eu-west-1"]`);
  assert.equal(await banner.$('.b-code').getText(), 'UnauthorizedOperation', `the banner shows AWS's code: "${b[0].text}"`);
  assert.match(b[0].text, /is not authorized to perform: ec2:DescribeInstances/, 'the banner says what was refused');
  assert.equal((await banners(browser)).filter((x) => x.visible && x.region === 'us-east-1').length, 0,
    'no banner for us-east-1');
  const us = (await lab.state()).filter((i) => i.region === 'us-east-1');
  const shown = new Map((await rows(browser)).filter((r) => r.visible).map((r) => [r.id, r]));
  const missing = us.filter((i) => shown.get(i.id)?.state !== i.state).map((i) => `${i.id} (${i.name})`);
  assert.deepEqual(missing, [], 'every us-east-1 instance still has its row');
  await screenshot(browser, 'region-banner');
});

test("4. a restart shows the last run's list at once, marked as such, until this run's listing replaces it", { timeout: 120_000 }, async () => {
  const { lab } = ctx;
  const db = await lab.named('db-primary');
  await waitFor(ctx.browser, async () => (await rows(ctx.browser)).some((r) => r.id === db.id && r.text.includes('db-primary')),
    { what: 'db-primary listed in the first run' });
  await sleep(1500); // WebKit writes localStorage to disk shortly after a change
  const home = ctx.app.home;
  await ctx.app.close({ keepHome: true, saveLogAs: 'inventory-first' });
  ctx.app = null;
  // This run's listing is slow and renames db-primary: rows on screen before it lands are the cache's.
  await lab.fault('tag', db.id, 'Name', 'db-renamed');
  await lab.fault('ec2-delay', 5000);
  try {
    ctx.app = await App.launch({ lab, regions: ctx.regions, name: 'inventory', home });
    ctx.browser = ctx.app.browser;
    const { browser } = ctx;
    await waitForApp(browser);
    // The row as first seen: from the cache it has the old name; without one it would only come
    // with this run's listing, renamed.
    const cached = await waitFor(browser, async () => (await rows(browser)).find((r) => r.id === db.id && r.visible),
      { timeout: 30_000, interval: 50, what: "db-primary's row" });
    assert.match(cached.text, /db-primary/, 'the first row seen is the last run\'s, with its name');
    const stale = await browser.execute((s) => document.querySelector(s)?.textContent ?? null, sel('status-stale'));
    assert.match(stale ?? '(no status-stale item)', /last run's list/, 'the status bar says the list is the last run\'s');
    await screenshot(browser, 'inventory-cached');
    const fresh = await waitFor(browser, async () => (await rows(browser)).find((r) => r.id === db.id && r.text.includes('db-renamed')),
      { timeout: 30_000, what: "db-primary's row with this run's name" });
    assert.ok(fresh.visible);
    assert.equal(await browser.$(sel('status-stale')).isExisting(), false, 'no stale mark once this run has listed');
  } finally {
    await lab.fault('ec2-delay', 0);
    await lab.fault('tag', db.id, 'Name', 'db-primary');
  }
});
