// Scenarios 4–9: shells through the real app to the lab's real sshd.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import {
  activateTab, connect, openConnectDialog, roundTrip, submitConnect, typeLine, waitTabStatus,
} from '../lib/session.js';
import {
  domTabs, hookTabs, replaceText, screenshot, sel, terminalLines, visibleByTestId, waitFor,
} from '../lib/ui.js';

const ctx = labAndApp({ name: 'sessions' });
/** instance name/id → tab index of a connected session opened by an earlier test. */
const tabsOf = new Map();

/** A connected tab on the instance (reusing one an earlier test opened). */
async function session(key, instanceId, opts = {}) {
  const { browser, lab } = ctx;
  if (tabsOf.has(key)) {
    const i = tabsOf.get(key);
    const t = await hookTabs(browser);
    if (t[i]?.status === 'connected') return i;
  }
  const { index } = await connect(browser, { instanceId, user: lab.osUser, ...opts });
  tabsOf.set(key, index);
  return index;
}

const hasLine = (lines, s) => lines.some((l) => l === s);

test('4. connect to db-primary: host-key dialog, trust, then a shell that answers 42', { timeout: 90_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  const before = (await hookTabs(browser)).length;
  await openConnectDialog(browser, db.id);
  await screenshot(browser, 'connect-dialog');
  await submitConnect(browser, { user: lab.osUser });
  const dlg = await browser.$(sel('hostkey-dialog'));
  await dlg.waitForDisplayed({ timeout: 20_000, timeoutMsg: 'no hostkey-dialog for a never-seen instance' });
  const text = (await dlg.getText()).replace(/\s+/g, ' ');
  await screenshot(browser, 'hostkey-dialog');
  assert.ok(text.includes(db.host_key_sha256), `host-key dialog shows the lab's fingerprint ${db.host_key_sha256}: "${text}"`);
  await (await browser.$(sel('hostkey-trust'))).click();
  await waitFor(browser, async () => (await hookTabs(browser)).length > before, { what: 'a tab for db-primary' });
  const index = (await hookTabs(browser)).length - 1;
  await waitTabStatus(browser, index, 'connected', 30_000);
  tabsOf.set('db-primary', index);
  await typeLine(browser, index, 'echo $((6*7))');
  await waitFor(browser, async () => hasLine(await terminalLines(browser, index), '42'),
    { timeout: 20_000, what: 'a line "42" in the db-primary terminal' });
  await screenshot(browser, 'terminal-42');
});

test('4b. a burst of keystrokes (one Send Keys per line) arrives in order', { timeout: 90_000 }, async () => {
  const { browser, lab } = ctx;
  // Its own tab (the public \`web\`), so keystrokes that arrive late cannot leak into other scenarios.
  const web = (await lab.state()).find((i) => i.name === 'web' && i.public_ip && i.state === 'running');
  const index = await session('web-prod', web.id);
  const words = 'the quick brown fox jumps over the lazy dog 0123456789 stty size echo hello world';
  const bad = [];
  for (let k = 0; k < 5; k++) {
    const tag = `${k + 1}${Date.now() % 100000}`; // no leading 0: bash would read octal
    await typeLine(browser, index, `echo burst-$((${tag}+1)) ${words}`, { fast: true });
    const want = `burst-${Number(tag) + 1} ${words}`;
    try {
      await waitFor(browser, async () => (await terminalLines(browser, index)).some((l) => l === want),
        { timeout: 5_000, what: `the echoed burst line ${k}` });
    } catch {
      const typed = (await terminalLines(browser, index)).filter((l) => l.includes('burst')).slice(-2);
      bad.push(typed.join(' ⏎ '));
    }
  }
  assert.deepEqual(bad, [], 'every keystroke of a burst reaches the shell in order');
});

test('5. resizing the window changes `stty size` in the shell', { timeout: 90_000 }, async () => {
  const { browser, lab } = ctx;
  const index = await session('db-primary', (await lab.named('db-primary')).id);
  const size0 = await browser.getWindowSize();
  const parse = (s) => { const m = s.trim().match(/^(\d+) (\d+)$/); assert.ok(m, `stty size printed "${s}"`); return [Number(m[1]), Number(m[2])]; };
  const [r0, c0] = parse(await roundTrip(browser, index, 'stty size'));
  assert.ok(r0 > 5 && c0 > 20, `initial size ${r0}x${c0} is a real terminal size`);
  const target = { width: Math.max(800, size0.width - 300), height: Math.max(520, size0.height - 200) };
  await browser.setWindowSize(target.width, target.height);
  let r1; let c1;
  try {
    await waitFor(browser, async () => {
      [r1, c1] = parse(await roundTrip(browser, index, 'stty size'));
      return r1 !== r0 && c1 !== c0;
    }, { timeout: 20_000, interval: 300, what: `stty size to change from ${r0} ${c0} after resizing to ${target.width}x${target.height}` });
    assert.ok(r1 < r0 && c1 < c0, `smaller window, smaller terminal: ${r0}x${c0} → ${r1}x${c1}`);
  } finally {
    await browser.setWindowSize(size0.width, size0.height);
  }
});

test('6. two tabs at once: each its own output, buffers kept when switching', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  const cafe = await lab.named('café-α');
  const a = await session('db-primary', db.id);
  const b = await session('café-α', cafe.id);
  assert.notEqual(a, b);
  assert.equal(await roundTrip(browser, b, 'echo tab2-$((3*5))'), 'tab2-15');
  await screenshot(browser, 'two-tabs');
  await activateTab(browser, a);
  assert.equal(await roundTrip(browser, a, 'echo tab1-$((2*4))'), 'tab1-8');
  const la = await terminalLines(browser, a);
  const lb = await terminalLines(browser, b);
  const has = (ls, s) => ls.some((l) => l.includes(s));
  assert.ok(has(la, 'tab1-8') && !has(la, 'tab2-15'), 'tab 1 has its own output only');
  assert.ok(has(lb, 'tab2-15') && !has(lb, 'tab1-8'), 'tab 2 has its own output only');
  // Switch back: tab 2's buffer is still there, and its shell still answers.
  await activateTab(browser, b);
  assert.ok(has(await terminalLines(browser, b), 'tab2-15'), 'tab 2 kept its buffer across switching');
  assert.equal(await roundTrip(browser, b, 'hostname >/dev/null && echo again-$((1+1))'), 'again-2');
  // Different machines: each shell is on its own sshd (own host key, own address).
  const ipA = await roundTrip(browser, a, "echo $SSH_CONNECTION | cut -d' ' -f3");
  const ipB = await roundTrip(browser, b, "echo $SSH_CONNECTION | cut -d' ' -f3");
  assert.equal(ipA, db.private_ip);
  assert.equal(ipB, cafe.private_ip);
});

test('7. a stopped instance (batch): Connect disabled with the reason; trying anyway shows instance_not_running', { timeout: 60_000 }, async () => {
  const { browser, lab } = ctx;
  const batch = await lab.named('batch');
  assert.equal(batch.state, 'stopped');
  const tabsBefore = await hookTabs(browser);
  await openConnectDialog(browser, batch.id);
  // Up front: Connect is disabled and the dialog says why, visibly.
  const submit = await browser.$(sel('connect-submit'));
  assert.equal(await submit.isEnabled(), false, 'Connect is disabled for a stopped instance');
  const why = await waitFor(browser, async () => (await visibleByTestId(browser, 'connect-stopped'))[0] ?? null,
    { what: 'a visible connect-stopped explanation' });
  assert.match(why.text, /stopped/i, `the dialog says the instance is stopped: "${why.text}"`);
  await screenshot(browser, 'stopped-dialog');
  // "Try anyway" asks AWS and shows its specific error.
  await replaceText(browser, await browser.$(sel('connect-user')), lab.osUser);
  await (await browser.$(sel('connect-anyway'))).click();
  const shown = await waitFor(browser, async () => {
    const e = await visibleByTestId(browser, 'session-error');
    return e.find((x) => x.attrs['data-kind'] === 'instance_not_running') ?? (e.length ? { other: e } : null);
  }, { timeout: 20_000, what: 'a visible session-error' });
  await screenshot(browser, 'stopped-error');
  assert.ok(!shown.other, `session-error of kind instance_not_running, got: ${JSON.stringify(shown.other)}`);
  assert.match(shown.text, /stopped|not running|state/i, `the error says why: "${shown.text}"`);
  const tabsAfter = await hookTabs(browser);
  const fresh = tabsAfter.slice(tabsBefore.length);
  assert.ok(fresh.length === 1 && fresh[0].status === 'failed', `one failed tab: ${JSON.stringify(fresh)}`);
});

test('8. a changed host key is refused with both fingerprints, and nothing is shown from that host', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const web = (await lab.state()).find((i) => i.name === 'web' && !i.public_ip && i.state === 'running');
  assert.ok(web, 'the lab has the private-only `web`');
  const first = await session('web-staging', web.id);
  assert.equal(await roundTrip(browser, first, 'echo pinned-$((2+2))'), 'pinned-4');
  const oldFp = web.host_key_sha256;
  await lab.fault('rekey', web.id);
  const newFp = (await lab.byId(web.id)).host_key_sha256;
  assert.notEqual(newFp, oldFp, 'the lab changed the host key');

  const tabsBefore = await hookTabs(browser);
  await openConnectDialog(browser, web.id);
  await submitConnect(browser, { user: lab.osUser });
  let sawConnected = false;
  const panel = await waitFor(browser, async () => {
    const t = await hookTabs(browser);
    if (t.slice(tabsBefore.length).some((x) => x.status === 'connected')) sawConnected = true;
    const hk = await visibleByTestId(browser, 'hostkey-changed');
    return hk[0] ?? null;
  }, { timeout: 30_000, what: 'a visible hostkey-changed panel' });
  await screenshot(browser, 'hostkey-changed');
  assert.ok(panel.text.includes(oldFp), `panel shows the pinned fingerprint ${oldFp}: "${panel.text}"`);
  assert.ok(panel.text.includes(newFp), `panel shows the offered fingerprint ${newFp}: "${panel.text}"`);
  assert.equal(sawConnected, false, 'never connected');
  assert.equal((await visibleByTestId(browser, 'hostkey-dialog')).length, 0, 'no trust prompt for a changed key');
  const after = await hookTabs(browser);
  const fresh = after.slice(tabsBefore.length);
  assert.ok(!fresh.some((x) => x.status === 'connected'), `no connected tab: ${JSON.stringify(fresh)}`);
  // Nothing from the impostor host in any new tab: no shell prompt, no login banner.
  for (let i = tabsBefore.length; i < after.length; i++) {
    const text = (await terminalLines(browser, i)).join('\n');
    assert.ok(!text.includes(`${lab.osUser}@`) && !/Last login|\$ $/m.test(text),
      `tab ${i} shows no output from the host: ${JSON.stringify(text.slice(0, 300))}`);
  }
});

test('9. sshd killed: tab lost with scrollback kept; sshd back: Reconnect in the same tab', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  const index = await session('db-primary', db.id);
  assert.equal(await roundTrip(browser, index, 'echo keep-$((5*5))'), 'keep-25');
  const tabCount = (await hookTabs(browser)).length;
  await lab.fault('kill-sshd', db.id);
  await waitTabStatus(browser, index, 'lost', 30_000);
  await activateTab(browser, index);
  const lines = await terminalLines(browser, index);
  assert.ok(lines.some((l) => l.includes('keep-25')), 'scrollback survives the lost connection');
  await screenshot(browser, 'disconnected');

  await lab.fault('restart-sshd', db.id);
  const reconnect = await waitFor(browser, async () => {
    for (const el of await browser.$$(sel('reconnect'))) if (await el.isDisplayed()) return el;
    return null;
  }, { what: 'a visible Reconnect button' });
  await reconnect.click();
  await waitFor(browser, async () => {
    if ((await visibleByTestId(browser, 'hostkey-dialog')).length) throw new Error('asked to trust a key already trusted');
    const t = await hookTabs(browser);
    return t[index]?.status === 'connected';
  }, { timeout: 30_000, what: `tab ${index} connected again` });
  assert.equal((await hookTabs(browser)).length, tabCount, 'reconnect reuses the tab');
  assert.equal((await domTabs(browser))[index].status, 'connected');
  try {
    assert.equal(await roundTrip(browser, index, 'echo back-$((9*9))'), 'back-81');
  } finally {
    await screenshot(browser, 'reconnected');
  }
  // The whole buffer of the lost session is still there, unchanged, above the new session's output.
  const after = await terminalLines(browser, index);
  const kept = lines.slice(0, -1); // the last line (the dead prompt) may be continued
  const overwritten = kept.map((l, i) => [i, l, after[i]]).filter(([, l, a]) => l !== a);
  assert.deepEqual(overwritten.slice(0, 5), [],
    `scrollback of the lost session altered after reconnect ([row, before, after]); now:\n${after.slice(0, 12).join('\n')}`);
  const iKeep = after.findIndex((l) => l.includes('keep-25'));
  const iBack = after.findIndex((l) => /^<\d+>back-81</.test(l));
  assert.ok(iKeep >= 0 && iBack > iKeep, `new output (row ${iBack}) below the old (row ${iKeep})`);
});
