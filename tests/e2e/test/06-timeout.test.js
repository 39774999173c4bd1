// The app in its real window against a host that accepts TCP and never speaks (issue 8): the tab
// says which phase timed out, with the address, and Reconnect works once sshd is back.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import { openConnectDialog, submitConnect } from '../lib/session.js';
import { hookTabs, screenshot, sel, visibleByTestId, waitFor } from '../lib/ui.js';

// A short deadline so the test does not wait 15 s; the app reads it as the CLI does.
const ctx = labAndApp({ name: 'timeout', extraEnv: { KEYLESS_TIMEOUT: '4' } });

test('T1. a silent sshd: the tab names the timed-out phase and the address; Reconnect connects once it is back', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  await lab.fault('mute-sshd', db.id);
  const before = (await hookTabs(browser)).length;
  await openConnectDialog(browser, db.id);
  await submitConnect(browser, { user: lab.osUser });

  const shown = await waitFor(browser, async () => {
    const e = await visibleByTestId(browser, 'session-error');
    return e.find((x) => x.attrs['data-kind'] === 'timeout') ?? null;
  }, { timeout: 40_000, what: 'a visible session-error of kind timeout' });
  await screenshot(browser, 'timeout');
  assert.match(shown.text, /timed out after 4 s waiting for the SSH banner and key exchange/, shown.text);
  assert.ok(shown.text.includes(`${db.private_ip}:`), `names the address: ${shown.text}`);
  const tabs = await hookTabs(browser);
  assert.equal(tabs.length, before + 1);
  assert.equal(tabs.at(-1).status, 'failed');

  await lab.fault('restart-sshd', db.id);
  const again = await waitFor(browser, async () => {
    for (const el of await browser.$$(sel('reconnect'))) if (await el.isDisplayed()) return el;
    return null;
  }, { what: 'a visible Reconnect button' });
  await again.click();
  const trust = await browser.$(sel('hostkey-trust'));
  await trust.waitForDisplayed({ timeout: 30_000, timeoutMsg: 'no host-key question after Reconnect' });
  await trust.click();
  await waitFor(browser, async () => (await hookTabs(browser)).at(-1)?.status === 'connected',
    { timeout: 30_000, what: 'the same tab connected after Reconnect' });
  assert.equal((await hookTabs(browser)).length, before + 1, 'Reconnect reuses the tab');
});
