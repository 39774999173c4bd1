// Profiles P1–P7: saved connection profiles in the sidebar of the real app, against the lab
// (a real sshd behind every running instance; the profiles file lives in the app's private HOME).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import { activateTab, roundTrip } from '../lib/session.js';
import {
  hookTabs, replaceText, rowOf, screenshot, sel, setSearch, terminalLines, visibleByTestId, waitFor,
} from '../lib/ui.js';
import {
  connectByClick, contextClick, editor, fill, profileMenu, pushes, rowSel, saveEditor, trustAndConnect, waitRow,
} from '../lib/profiles.js';
import { doubleClick } from '../lib/x11.js';

const ctx = labAndApp({ name: 'profiles' });

test('P1. Save as profile from an instance row: the editor is prefilled, the profile appears in the sidebar', { timeout: 90_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  await (await browser.$(sel('sidebar'))).waitForDisplayed({ timeoutMsg: 'no sidebar' });
  const row = await rowOf(browser, db.id);
  await contextClick(browser, row, 'instance-menu');
  await screenshot(browser, 'profiles-instance-menu');
  await (await browser.$(sel('instance-menu-save-profile'))).click();
  await editor(browser);
  assert.equal(await (await browser.$(sel('editor-name'))).getValue(), 'db-primary');
  assert.equal(await (await browser.$(sel('editor-target'))).getValue(), db.id);
  assert.equal(await (await browser.$(sel('editor-region'))).getValue(), db.region);
  await fill(browser, { user: lab.osUser });
  await screenshot(browser, 'profiles-editor');
  await saveEditor(browser);
  const r = await waitRow(browser, 'db-primary');
  assert.ok(r.text.includes(db.id), `the row shows the target: "${r.text}"`);
  await screenshot(browser, 'profiles-saved');
});

test('P2. one click on the profile connects: a real shell, the tab is named after it, Recent lists it', { timeout: 120_000 }, async () => {
  const { browser } = ctx;
  const index = await connectByClick(browser, 'db-primary');
  assert.equal((await hookTabs(browser))[index].title, 'db-primary');
  assert.equal(await roundTrip(browser, index, 'echo $((6*7))'), '42');
  const lines = await terminalLines(browser, index);
  assert.ok(lines.some((l) => l.startsWith('<') && l.includes('42')), 'the terminal shows the answer');
  await waitRow(browser, 'db-primary', { section: 'recent', timeout: 15_000 });
  await screenshot(browser, 'profiles-connected');
  await activateTab(browser, 0);
});

test('P3. edit: rename and regroup; the sidebar shows the change', { timeout: 60_000 }, async () => {
  const { browser } = ctx;
  await profileMenu(browser, 'db-primary', 'edit');
  await editor(browser);
  await fill(browser, { name: 'db-main', group: 'databases' });
  await saveEditor(browser);
  const r = await waitRow(browser, 'db-main');
  assert.equal(r.group, 'databases');
  await waitRow(browser, 'db-primary', { gone: true });
  const headers = await visibleByTestId(browser, 'profile-group');
  assert.ok(headers.some((h) => h.attrs['data-group'] === 'databases'), `a "databases" group header: ${JSON.stringify(headers)}`);
  await screenshot(browser, 'profiles-edited');
});

test('P4. delete, then Undo (the toast button, and Ctrl+Z from the list)', { timeout: 60_000 }, async () => {
  const { browser } = ctx;
  await profileMenu(browser, 'db-main', 'delete');
  await waitRow(browser, 'db-main', { gone: true });
  const toast = await browser.$(sel('undo-toast'));
  await toast.waitForDisplayed({ timeoutMsg: 'no undo toast' });
  assert.match(await toast.getText(), /Deleted.*db-main/);
  await screenshot(browser, 'profiles-deleted');
  await (await browser.$(sel('toast-undo'))).click();
  const back = await waitRow(browser, 'db-main');
  assert.equal(back.group, 'databases', 'Undo brings it back as it was');

  // The keyboard way: search, ArrowDown into the list, Delete, then Ctrl+Z.
  const search = await browser.$(sel('profile-search'));
  await replaceText(browser, search, 'db-main');
  await browser.keys('ArrowDown');
  await browser.keys('Delete');
  await waitRow(browser, 'db-main', { gone: true });
  await toast.waitForDisplayed({ timeoutMsg: 'no undo toast after Delete' });
  await browser.keys(['Control', 'z']);
  await waitRow(browser, 'db-main');
  await replaceText(browser, search, '');
});

test('P5. a profile of a stopped instance says so before connecting; no key is pushed, no tab opens', { timeout: 60_000 }, async () => {
  const { browser, lab } = ctx;
  const batch = await lab.named('batch');
  assert.equal(batch.state, 'stopped');
  await activateTab(browser, 0);
  await setSearch(browser, batch.id);
  await contextClick(browser, await rowOf(browser, batch.id), 'instance-menu');
  await (await browser.$(sel('instance-menu-save-profile'))).click();
  await editor(browser);
  await fill(browser, { user: lab.osUser });
  await saveEditor(browser);
  await setSearch(browser, '');
  const r = await waitRow(browser, 'batch');
  assert.equal(r.badge, 'stopped', `the row has a "stopped" badge: ${JSON.stringify(r)}`);
  const tabs = (await hookTabs(browser)).length;
  const pushed = (await pushes(lab)).length;
  await (await browser.$(rowSel('batch'))).click();
  const err = await browser.$(`${sel('profile-error')}[data-name="batch"]`);
  await err.waitForDisplayed({ timeout: 20_000, timeoutMsg: 'no profile-error for batch' });
  assert.equal(await err.getAttribute('data-kind'), 'instance_not_running');
  assert.match(await err.getText(), /stopped/);
  await screenshot(browser, 'profiles-stopped');
  assert.equal((await hookTabs(browser)).length, tabs, 'no tab was opened');
  assert.equal((await pushes(lab)).length, pushed, 'no key was pushed');
  await (await browser.$(sel('profile-error-dismiss'))).click();
});

test('P6. a tag selector with two running matches shows the picker; the chosen one connects', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const webs = (await lab.state()).filter((i) => i.name === 'web' && i.state === 'running');
  assert.equal(webs.length, 2, 'the lab has two running "web" instances');
  await (await browser.$(sel('profile-new'))).click();
  await editor(browser);
  await fill(browser, { name: 'any web', target: 'Role=web', region: webs[0].region, user: lab.osUser, group: 'web' });
  await saveEditor(browser);
  await waitRow(browser, 'any web');
  const before = (await hookTabs(browser)).length;
  await (await browser.$(rowSel('any web'))).click();
  const picker = await browser.$(sel('candidate-picker'));
  await picker.waitForDisplayed({ timeout: 20_000, timeoutMsg: 'no candidate-picker' });
  const ids = await browser.execute((s) => [...document.querySelectorAll(s)].map((r) => r.getAttribute('data-instance-id')), sel('candidate-row'));
  assert.deepEqual([...ids].sort(), webs.map((w) => w.id).sort());
  await screenshot(browser, 'profiles-picker');
  const pick = webs.find((w) => w.public_ip) ?? webs[0];
  await doubleClick(browser, await browser.$(`${sel('candidate-row')}[data-instance-id="${pick.id}"]`));
  await waitFor(browser, async () => (await hookTabs(browser)).length > before, { timeout: 20_000, what: 'a tab for the picked instance' });
  await trustAndConnect(browser, before);
  assert.equal((await hookTabs(browser))[before].title, 'any web');
  assert.equal(await roundTrip(browser, before, 'echo picked'), 'picked');
  await screenshot(browser, 'profiles-picked');
});

test('P7. a profile whose address choice the instance lacks: its tab says so, and no key is pushed', { timeout: 60_000 }, async () => {
  const { browser, lab } = ctx;
  const staging = (await lab.state()).find((i) => i.name === 'web' && !i.public_ip && i.state === 'running');
  assert.ok(staging, 'the lab has the private-only `web`');
  await (await browser.$(sel('profile-new'))).click();
  await editor(browser);
  await fill(browser, { name: 'staging public', target: staging.id, region: staging.region, user: lab.osUser, via: 'public' });
  await saveEditor(browser);
  await waitRow(browser, 'staging public');
  const before = (await hookTabs(browser)).length;
  const pushed = (await pushes(lab)).length;
  await (await browser.$(rowSel('staging public'))).click();
  const err = await waitFor(browser, async () => (await visibleByTestId(browser, 'session-error'))[0] ?? null,
    { timeout: 20_000, what: 'a session-error for an address the instance lacks' });
  await screenshot(browser, 'profiles-no-address');
  assert.equal(err.attrs['data-kind'], 'no_address', `kind no_address: ${JSON.stringify(err)}`);
  assert.ok(err.text.includes(`${staging.id}`) && err.text.includes('has no public IPv4 address'), `the error says which address is missing: "${err.text}"`);
  const tabs = await hookTabs(browser);
  assert.equal(tabs.length, before + 1, 'one tab for the attempt');
  assert.equal(tabs[before].status, 'failed');
  assert.equal((await pushes(lab)).length, pushed, 'no key was pushed');
});
