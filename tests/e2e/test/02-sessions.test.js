// Scenarios 4–12: shells through the real app to the lab's real sshd: connecting (both gestures,
// every host-key answer, the address and port fields), typing, resizing, tabs, refusals, reconnects,
// a 100 MB flood, copy/paste/find.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import { Relay } from '../lib/relay.js';
import {
  activateTab, connect, openConnectDialog, roundTrip, submitConnect, typeLine, waitTabStatus,
} from '../lib/session.js';
import {
  domTabs, hookTabs, replaceText, screenshot, sel, terminalLines, visibleByTestId, waitFor,
} from '../lib/ui.js';
import { clipboardText, doubleClick, holdClipboard } from '../lib/x11.js';

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

/** The connect dialog is open for `inst` (its title and id); closes it with Escape. */
async function assertDialogFor(browser, inst) {
  try {
    const shown = await visibleByTestId(browser, 'connect-dialog');
    assert.equal(shown.length, 1, `one connect dialog: ${JSON.stringify(shown)}`);
    const { text } = shown[0];
    assert.ok(text.includes(`Connect to ${inst.name}`) && text.includes(inst.id), `the dialog is for ${inst.name} (${inst.id}): "${text}"`);
  } finally {
    await browser.keys('Escape');
    await waitFor(browser, async () => (await visibleByTestId(browser, 'connect-dialog')).length === 0,
      { what: 'Escape to close the connect dialog' });
  }
}

test('4c. a double-click on a row (a real X pointer) opens its connect dialog', { timeout: 60_000 }, async () => {
  const { browser, lab } = ctx;
  const cafe = await lab.named('café-α');
  await openConnectDialog(browser, cafe.id, { gesture: 'dblclick' });
  await assertDialogFor(browser, cafe);
});

test('4d. Enter on the selected row opens its connect dialog', { timeout: 60_000 }, async () => {
  const { browser, lab } = ctx;
  const cafe = await lab.named('café-α');
  await openConnectDialog(browser, cafe.id, { gesture: 'enter' });
  await assertDialogFor(browser, cafe);
});

/** Lines of the app's known-hosts file that pin `id` (none when the file does not exist). */
function pinned(id) {
  let text = '';
  try { text = readFileSync(join(ctx.app.home, '.local', 'share', 'keyless', 'known_hosts'), 'utf8'); } catch { /* none yet */ }
  return text.split('\n').filter((l) => l.split(' ')[0] === id);
}

/** Submits the connect dialog of `id`; resolves with the new tab's index once the host-key question shows. */
async function askedAboutHostKey(browser, id, user) {
  const before = (await hookTabs(browser)).length;
  await openConnectDialog(browser, id);
  await submitConnect(browser, { user });
  const dlg = await browser.$(sel('hostkey-dialog'));
  await dlg.waitForDisplayed({ timeout: 20_000, timeoutMsg: `no hostkey-dialog for ${id}` });
  assert.equal(await (await browser.$(sel('hostkey-instance'))).getText(), id);
  return before;
}

test('4e. host key: Cancel connects nothing and pins nothing; "Connect once" connects and pins nothing', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const inst = (await lab.state()).find((i) => i.name === null && i.state === 'running');
  assert.ok(inst, 'the lab has a running instance without a Name tag');
  assert.deepEqual(pinned(inst.id), [], 'nothing pinned before');

  const cancelled = await askedAboutHostKey(browser, inst.id, lab.osUser);
  await (await browser.$(sel('hostkey-cancel'))).click();
  const t = await waitFor(browser, async () => {
    const s = (await hookTabs(browser))[cancelled]?.status;
    return s && s !== 'connecting' ? s : null;
  }, { timeout: 20_000, what: 'the cancelled tab to settle' });
  assert.notEqual(t, 'connected', 'Cancel does not connect');
  assert.deepEqual(pinned(inst.id), [], 'Cancel pins nothing');

  const once = await askedAboutHostKey(browser, inst.id, lab.osUser);
  await (await browser.$(sel('hostkey-once'))).click();
  await waitTabStatus(browser, once, 'connected', 30_000);
  assert.equal(await roundTrip(browser, once, "echo $SSH_CONNECTION | cut -d' ' -f3"), inst.private_ip);
  assert.deepEqual(pinned(inst.id), [], '"Connect once" pins nothing');

  // Still unknown: the next connect asks again.
  const again = await askedAboutHostKey(browser, inst.id, lab.osUser);
  await (await browser.$(sel('hostkey-cancel'))).click();
  await waitFor(browser, async () => (await hookTabs(browser))[again]?.status !== 'connecting',
    { timeout: 20_000, what: 'the third tab to settle' });
  assert.deepEqual(pinned(inst.id), []);
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

test('10. 100 MB through the real window arrive whole (every byte counted as xterm parses it)', { timeout: 420_000 }, async () => {
  const { browser, lab } = ctx;
  const index = await session('café-α', (await lab.named('café-α')).id);
  const N = 100_000_000;
  await activateTab(browser, index);
  // '%' (octal 045) is nowhere else on this screen: not in the typed line, the prompt or
  // bash's control sequences, so every '%' xterm parses is one of the N.
  await browser.execute((i) => window.__keyless.countBytes(i, 0x25), index);
  const tag = 7000 + Math.floor(Math.random() * 1000);
  await typeLine(browser, index, `head -c ${N} /dev/zero | tr '\\0' '\\045'; echo; echo "flood-$((${tag}+1))"`);
  const counted = () => browser.execute((i) => window.__keyless.countedBytes(i), index);
  await waitFor(browser, async () => { const c = await counted(); return c.matching >= N ? c : null; },
    { timeout: 360_000, interval: 1_000, what: `${N} bytes of '%' parsed by xterm` });
  await waitFor(browser, async () => hasLine(await terminalLines(browser, index), `flood-${tag + 1}`),
    { timeout: 30_000, interval: 1_000, what: 'the line after the flood' });
  const c = await counted();
  assert.equal(c.matching, N, 'exactly N data bytes: none lost, none doubled');
  // And the screen shows it: the page paints at most every 33 ms while a terminal floods
  // (ui/src/lib/framePacing.ts), and must paint the end once the flood is over.
  const painted = () => browser.execute((s) => [...document.querySelectorAll(s)]
    .filter((t) => t.getClientRects().length > 0)
    .map((t) => t.querySelector('.xterm-rows')?.textContent ?? '').join('\n'), sel('terminal'));
  await waitFor(browser, async () => (await painted()).includes(`flood-${tag + 1}`),
    { timeout: 10_000, what: `the line after the flood painted on the screen` });
  await screenshot(browser, 'flood-done');
});

test('11. copy (Ctrl+Shift+C), paste with the multi-line warning (Ctrl+Shift+V) and find (Ctrl+Shift+F)', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const index = await session('db-primary', (await lab.named('db-primary')).id);
  await activateTab(browser, index);
  const tag = 5000 + Math.floor(Math.random() * 1000);
  const word = `copy${tag + 1}me`;
  // A word alone on the top row of a cleared screen: where a real double-click selects it.
  await typeLine(browser, index, `clear; echo "copy$((${tag}+1))me"`);
  await waitFor(browser, async () => (await terminalLines(browser, index))[0] === word,
    { what: `"${word}" on the first row` });
  let screen = null;
  for (const e of await browser.$$(`${sel('terminal')} .xterm-screen`)) if (await e.isDisplayed()) screen = e;
  assert.ok(screen, 'a visible xterm screen');
  const rows = Number((await roundTrip(browser, index, 'stty size')).split(' ')[0]);
  await doubleClick(browser, screen, { fx: 0.01, fy: 0.5 / rows });
  await browser.keys(['Control', 'Shift', 'c']);
  await waitFor(browser, async () => (await clipboardText()) === word,
    { timeout: 5_000, what: `the clipboard to hold "${word}"` });

  // Two lines on the clipboard: the paste asks first, then both run.
  const release = await holdClipboard(browser, 'echo "pasted-$((2+3))"\necho "pasted-$((3+4))"\n');
  try {
    await typeLine(browser, index, '', { enter: false });
    await browser.keys(['Control', 'Shift', 'v']);
    const dlg = await browser.$(sel('paste-dialog'));
    await dlg.waitForDisplayed({ timeout: 10_000, timeoutMsg: 'no paste-dialog for a two-line paste' });
    const text = (await dlg.getText()).replace(/\s+/g, ' ');
    assert.match(text, /Paste 2 lines\?/, `the warning counts the lines: "${text}"`);
    assert.ok(text.includes('echo "pasted-$((2+3))"'), `the warning shows what would be pasted: "${text}"`);
    await screenshot(browser, 'paste-dialog');
    await (await browser.$(sel('paste-confirm'))).click();
    await dlg.waitForDisplayed({ reverse: true, timeoutMsg: 'the paste dialog stayed open' });
  } finally {
    await release();
  }
  await typeLine(browser, index, ''); // bracketed paste: the pasted lines run on Enter
  await waitFor(browser, async () => {
    const ls = await terminalLines(browser, index);
    return hasLine(ls, 'pasted-5') && hasLine(ls, 'pasted-7');
  }, { timeout: 20_000, what: 'both pasted lines to run' });

  // Find: three matches of a word the shell printed.
  await typeLine(browser, index, `for i in 1 2 3; do echo "find$((${tag}+2))me"; done`);
  const needle = `find${tag + 2}me`;
  await waitFor(browser, async () => (await terminalLines(browser, index)).filter((l) => l === needle).length === 3,
    { what: `three "${needle}" lines` });
  await browser.keys(['Control', 'Shift', 'f']);
  const input = await browser.$(sel('find-input'));
  await input.waitForDisplayed({ timeout: 5_000, timeoutMsg: 'Ctrl+Shift+F opened no find bar' });
  await input.addValue(needle);
  const count = await browser.$('.findbar .count');
  await waitFor(browser, async () => /^\d of 3$/.test(await count.getText()),
    { what: `the find bar to count 3 matches of ${needle}` });
  await screenshot(browser, 'find');
  await browser.keys('Escape');
  await input.waitForDisplayed({ reverse: true, timeoutMsg: 'Escape did not close the find bar' });
});

test('12. the connect dialog: each address choice dials that address; the port field dials that port', { timeout: 120_000 }, async () => {
  const { browser, lab } = ctx;
  const eu = await lab.named('eu-web');
  const staging = (await lab.state()).find((i) => i.name === 'web' && !i.public_ip);
  // An address the instance lacks cannot be chosen, and says so.
  await openConnectDialog(browser, staging.id);
  const optPublic = await browser.$(`${sel('connect-via')} option[value="public"]`);
  assert.equal(await optPublic.isEnabled(), false, 'no public address: "public" is disabled');
  assert.match(await optPublic.getText(), /none/);
  await browser.keys('Escape');
  await (await browser.$(sel('connect-dialog'))).waitForDisplayed({ reverse: true });

  const serverIp = "echo $SSH_CONNECTION | cut -d' ' -f3";
  let first = true;
  for (const [via, ip] of [['private', eu.private_ip], ['public', eu.public_ip], ['auto', eu.public_ip]]) {
    const before = (await hookTabs(browser)).length;
    await openConnectDialog(browser, eu.id);
    await submitConnect(browser, { user: lab.osUser, via });
    if (first) {
      await (await browser.$(sel('hostkey-dialog'))).waitForDisplayed({ timeout: 20_000 });
      await (await browser.$(sel('hostkey-trust'))).click();
      first = false;
    }
    await waitTabStatus(browser, before, 'connected', 30_000);
    assert.equal(await roundTrip(browser, before, serverIp), ip, `via ${via}`);
  }

  // The port field: a relay of ours on eu-web's public address, in front of its sshd.
  const relay = await Relay.start(eu.public_ip, { host: eu.public_ip, port: lab.sshPort });
  try {
    const before = (await hookTabs(browser)).length;
    await openConnectDialog(browser, eu.id);
    await submitConnect(browser, { user: lab.osUser, via: 'public', port: relay.port });
    await waitTabStatus(browser, before, 'connected', 30_000);
    assert.equal(await roundTrip(browser, before, 'echo relayed-$((4+5))'), 'relayed-9');
    assert.equal(relay.accepted, 1, 'the session came through the port that was typed');
  } finally {
    await relay.close();
  }
  // A port nothing listens on (the relay's, now closed): the tab says it could not connect there.
  const before = (await hookTabs(browser)).length;
  await openConnectDialog(browser, eu.id);
  await submitConnect(browser, { user: lab.osUser, via: 'public', port: relay.port });
  const err = await waitFor(browser, async () => (await visibleByTestId(browser, 'session-error'))[0] ?? null,
    { timeout: 30_000, what: 'a session-error for a closed port' });
  assert.equal(err.attrs['data-kind'], 'network', `a network error: ${JSON.stringify(err)}`);
  assert.ok(err.text.includes(`${eu.public_ip}:${relay.port}`) && /refused/i.test(err.text),
    `the error names the address and port, refused: "${err.text}"`);
  assert.notEqual((await hookTabs(browser))[before]?.status, 'connected');
});
