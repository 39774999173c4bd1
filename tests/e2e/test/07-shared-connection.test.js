// Issue 9: tabs to the same instance share one SSH connection in the real app — a second tab is a
// channel on the first one's connection (no key push, no host-key question), both shells work at
// once, and the status bar and the tab strip say how many tabs share it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import { pushes } from '../lib/profiles.js';
import { activateTab, connect, roundTrip } from '../lib/session.js';
import { hookTabs, screenshot, sel, visibleByTestId, waitFor } from '../lib/ui.js';

const ctx = labAndApp({ name: 'shared' });

/** Successful key pushes to instance `id` so far. */
async function pushedTo(id) {
  return (await pushes(ctx.lab)).filter((p) => p.instance_id === id && p.outcome === 'Success').length;
}

/** The status bar's sharing note for the active tab ('' when it shows none). */
async function sharingNote(browser) {
  const shown = await visibleByTestId(browser, 'status-shared');
  return shown[0]?.text ?? '';
}

/** data-shared of each session tab in the strip (the Instances tab left out). */
async function sharedCounts(browser) {
  const tabs = await visibleByTestId(browser, 'tab');
  return tabs.filter((t) => t.attrs['data-status'] !== 'home').map((t) => Number(t.attrs['data-shared']));
}

test('S1. two tabs to db-primary: one key push, both shells answer, the status bar says they share', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  const before = await pushedTo(db.id);

  const { index: first } = await connect(browser, { instanceId: db.id, user: lab.osUser });
  assert.equal(await pushedTo(db.id), before + 1, 'the first tab pushed a key');
  // Trusted now; the second tab must not even get that far: no push, no question.
  const { index: second } = await connect(browser, { instanceId: db.id, user: lab.osUser, expectHostKey: false });
  assert.equal(await pushedTo(db.id), before + 1, 'the second tab pushed no key: it shares the connection');

  // Typing in both, each shell its own.
  assert.equal(await roundTrip(browser, first, 'echo first-$((20+1))'), 'first-21');
  assert.equal(await roundTrip(browser, second, 'echo second-$((20+2))'), 'second-22');

  await waitFor(browser, async () => (await sharingNote(browser)) === '2 tabs share this connection',
    { what: 'the status bar to say two tabs share the connection' });
  await screenshot(browser, 'shared-connection');
  assert.deepEqual(await sharedCounts(browser), [2, 2]);
  await activateTab(browser, first);
  assert.equal(await sharingNote(browser), '2 tabs share this connection', 'the other tab says it too');

  // Closing the second tab leaves the first alone on the connection: no note, still working.
  await activateTab(browser, second);
  const tabEls = await browser.$$(sel('tab'));
  await (await tabEls[second].$('button.close')).click();
  await waitFor(browser, async () => (await hookTabs(browser)).length === second,
    { what: 'the second tab to close' });
  await activateTab(browser, first);
  await waitFor(browser, async () => (await sharingNote(browser)) === '',
    { what: 'the sharing note to go once one tab is left' });
  assert.deepEqual(await sharedCounts(browser), [1]);
  assert.equal(await roundTrip(browser, first, 'echo still-$((40+2))'), 'still-42');
  assert.equal(await pushedTo(db.id), before + 1, 'one push for everything');
});
