// Issue 9: an instance only the VPC's EC2 Instance Connect Endpoint reaches (`private-db`: nothing
// listens on its private address), in the real app — Address = Auto connects through the lab's
// endpoint, the steps and the status bar say so, and a second tab to the same instance rides the
// same connection: the lab saw one key push, one tunnel and one TCP connection for both tabs.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import { pushes } from '../lib/profiles.js';
import { openConnectDialog, roundTrip, submitConnect } from '../lib/session.js';
import { hookTabs, screenshot, sel, visibleByTestId, waitFor } from '../lib/ui.js';

const ctx = labAndApp({ name: 'eice' });

async function labJson(path) {
  const res = await fetch(`${ctx.lab.endpoint}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** Tunnels the lab's endpoint opened to instance `id`. */
async function tunnelsTo(id) {
  return (await labJson('/_lab/tunnels')).filter((t) => t.instance_id === id && t.outcome.result === 'opened').length;
}

/** Opens a tab to `id` from its row with Address = Auto; `hostKey`: trust the question first. */
async function connectAuto(browser, id, { hostKey }) {
  const before = (await hookTabs(browser)).length;
  await openConnectDialog(browser, id);
  // The dialog offers EICE and Auto for a private-only instance.
  const options = await browser.execute((s) => [...document.querySelector(s).options].map((o) => o.value), sel('connect-via'));
  assert.ok(options.includes('eice') && options.includes('auto'), `address choices: ${options}`);
  await submitConnect(browser, { user: ctx.lab.osUser, via: 'auto' });
  if (hostKey) {
    // The question, or the tab's failure (said, rather than a bare timeout).
    const asked = await waitFor(browser, async () => {
      if (await (await browser.$(sel('hostkey-dialog'))).isDisplayed()) return 'asked';
      const t = await hookTabs(browser);
      return t.length > before && t[t.length - 1].status === 'failed' ? 'failed' : null;
    }, { timeout: 20_000, what: `the host-key question for ${id}` });
    if (asked === 'failed') assert.fail(`the tab failed: ${JSON.stringify(await visibleByTestId(browser, 'session-error'))}`);
    await (await browser.$(sel('hostkey-trust'))).click();
  }
  const tabs = await waitFor(browser, async () => {
    const t = await hookTabs(browser);
    return t.length > before && t[t.length - 1].status !== 'connecting' ? t : null;
  }, { timeout: 30_000, what: `a new tab for ${id} to leave "connecting"` });
  const index = tabs.length - 1;
  if (tabs[index].status !== 'connected') {
    assert.fail(`tab is "${tabs[index].status}": ${JSON.stringify(await visibleByTestId(browser, 'session-error'))}`);
  }
  return index;
}

test('E1. Address = Auto reaches private-db through the endpoint; a second tab shares its one tunnel', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('private-db');
  const endpoint = (await labJson('/_lab/endpoints')).find((e) => e.vpc_id === db.vpc_id);
  assert.ok(endpoint, `an endpoint in ${db.vpc_id}`);
  assert.equal(await tunnelsTo(db.id), 0);

  const first = await connectAuto(browser, db.id, { hostKey: true });
  assert.equal(await roundTrip(browser, first, 'echo tunnelled-$((40+2))'), 'tunnelled-42');
  const via = await visibleByTestId(browser, 'status-via');
  assert.equal(via[0]?.text, `via EICE ${endpoint.id}`, 'the status bar names the endpoint');
  await screenshot(browser, 'eice-auto');

  // The same instance again: no question, no push, no new tunnel — a channel on the same connection.
  const second = await connectAuto(browser, db.id, { hostKey: false });
  assert.equal(await roundTrip(browser, second, 'echo second-$((40+3))'), 'second-43');
  assert.equal(await roundTrip(browser, first, 'echo first-$((40+4))'), 'first-44');

  const pushed = (await pushes(lab)).filter((p) => p.instance_id === db.id && p.outcome === 'Success').length;
  assert.equal(pushed, 1, 'one key push for both tabs');
  assert.equal(await tunnelsTo(db.id), 1, 'one tunnel for both tabs');
  const { connections } = await labJson(`/_lab/ssh-connections/${db.id}`);
  assert.equal(connections, 1, 'one TCP connection reached sshd for both tabs');
  await waitFor(browser, async () => (await visibleByTestId(browser, 'status-shared'))[0]?.text === '2 tabs share this connection',
    { what: 'the status bar to say the two tabs share the connection' });
});
