// Forwards F1–F2: a port forward saved with a profile, started from the sidebar of the real app,
// carrying real bytes over the lab's real sshd to a TCP echo server on loopback — on the SSH
// connection the profile's tab already has (one key push).
import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import { after, before, test } from 'node:test';

import { freePort } from '../lib/app.js';
import { labAndApp } from '../lib/fixture.js';
import { connectByClick, contextClick, editor, fill, pushes, saveEditor, waitRow } from '../lib/profiles.js';
import { replaceText, rowOf, screenshot, sel, waitFor } from '../lib/ui.js';

const ctx = labAndApp({ name: 'forwards' });
let echo;
/** The forward's local port (F1 picks it). */
let local;

before(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
});
after(() => new Promise((r) => (echo ? echo.close(r) : r())));

const forwardRow = (name, index = 0) => `${sel('forward-row')}[data-profile="${name}"][data-index="${index}"]`;

async function forwardState(browser, name, index = 0) {
  return browser.execute((s) => document.querySelector(s)?.getAttribute('data-state') ?? null, forwardRow(name, index));
}

/** Sends `data` to 127.0.0.1:`port` and resolves with what comes back once as much arrived. */
function echoThrough(port, data) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let got = 0;
    const s = createConnection({ host: '127.0.0.1', port }, () => s.write(data));
    s.on('data', (c) => {
      chunks.push(c);
      got += c.length;
      if (got >= data.length) { s.end(); resolve(Buffer.concat(chunks)); }
    });
    s.on('error', reject);
    s.setTimeout(30_000, () => { s.destroy(); reject(new Error(`only ${got} of ${data.length} bytes came back`)); });
  });
}

test('F1. a saved forward starts from the sidebar on the tab\'s connection and carries bytes both ways', { timeout: 150_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  local = await freePort();
  const echoPort = echo.address().port;

  // Save a profile with one forward: local → 127.0.0.1:echo as the instance reaches it.
  await (await browser.$(sel('sidebar'))).waitForDisplayed({ timeoutMsg: 'no sidebar' });
  await contextClick(browser, await rowOf(browser, db.id), 'instance-menu');
  await (await browser.$(sel('instance-menu-save-profile'))).click();
  await editor(browser);
  await fill(browser, { name: 'db-fwd', user: lab.osUser });
  await replaceText(browser, await browser.$(sel('editor-forward-local')), String(local));
  await replaceText(browser, await browser.$(sel('editor-forward-host')), '127.0.0.1');
  await replaceText(browser, await browser.$(sel('editor-forward-port')), String(echoPort));
  await (await browser.$(sel('editor-forward-add'))).click();
  await waitFor(browser, async () => (await browser.$$(sel('editor-forward'))).length === 1, { what: 'the forward in the editor' });
  await screenshot(browser, 'forwards-editor');
  await saveEditor(browser);
  await waitRow(browser, 'db-fwd');

  // A tab through the profile (the host key is trusted there), then the forward from the sidebar.
  await connectByClick(browser, 'db-fwd');
  const row = await browser.$(forwardRow('db-fwd'));
  await row.waitForDisplayed({ timeoutMsg: 'no forward row under the profile' });
  await (await row.$(sel('forward-start'))).click();
  await waitFor(browser, async () => (await forwardState(browser, 'db-fwd')) === 'listening', { timeout: 30_000, what: 'the forward listening' });
  await screenshot(browser, 'forwards-listening');

  const data = Buffer.alloc(256 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 9)) & 0xff;
  const back = await echoThrough(local, data);
  assert.ok(back.equals(data), `the same ${data.length} bytes came back (got ${back.length})`);
  const ok = (await pushes(lab)).filter((p) => p.instance_id === db.id && p.outcome === 'Success');
  assert.equal(ok.length, 1, 'the forward shares the tab\'s connection: one key push');

  // The sidebar counts it.
  const status = await row.$(sel('forward-status'));
  await waitFor(browser, async () => (await status.getAttribute('data-total')) === '1' && (await status.getAttribute('data-active')) === '0',
    { timeout: 15_000, what: 'the connection counted' });
  assert.match(await browser.execute((el) => el.textContent, status), /0 open · 1 total/);
  const chip = await browser.$(sel('status-forwards'));
  assert.equal(await chip.getAttribute('data-listening'), '1', 'the tab\'s status bar shows the forward');
});

test('F2. stop releases the port: the forward row says stopped and nothing listens', { timeout: 60_000 }, async () => {
  const { browser } = ctx;
  const row = await browser.$(forwardRow('db-fwd'));
  await (await row.$(sel('forward-stop'))).click();
  await waitFor(browser, async () => (await forwardState(browser, 'db-fwd')) === 'stopped', { what: 'the forward stopped' });
  await screenshot(browser, 'forwards-stopped');
  const refused = () => new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port: local });
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', (e) => resolve(e.code === 'ECONNREFUSED'));
  });
  await waitFor(browser, refused, { what: `port ${local} released` });
});
