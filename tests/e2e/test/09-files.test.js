// Issue 10: the Files panel in the real app — opened from the session tab, a file uploaded
// through the native file picker (a GTK file chooser, driven with the X keyboard), seen in the
// listing, byte for byte on the instance, then downloaded into a folder picked the same way (a GTK
// folder chooser) and compared. Lab instances are real sshd processes running as this user, so the
// "remote" folder is a local one we can read.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { labAndApp } from '../lib/fixture.js';
import { freshDir } from '../lib/paths.js';
import { choosePath } from '../lib/picker.js';
import { activateTab, connect } from '../lib/session.js';
import { replaceText, screenshot, sel, visibleByTestId, waitFor } from '../lib/ui.js';

const ctx = labAndApp({ name: 'files' });
const work = freshDir('files');
after(() => rmSync(work, { recursive: true, force: true }));

/** The Files panel's folder, and whether it is still loading. */
async function panel(browser) {
  const [p] = await visibleByTestId(browser, 'files-panel');
  return p ? { dir: p.attrs['data-dir'], loading: p.attrs['data-loading'] === 'true' } : null;
}

/** Visible rows of the file list as {name, kind, size}. */
async function fileRows(browser) {
  return (await visibleByTestId(browser, 'file-row')).map((r) => ({
    name: r.attrs['data-name'], kind: r.attrs['data-kind'], size: Number(r.attrs['data-size']),
  }));
}

/** The newest transfer ({state, text}) once it left "running". */
async function finishedTransfer(browser, what) {
  return waitFor(browser, async () => {
    const [t] = await visibleByTestId(browser, 'transfer');
    return t && t.attrs['data-state'] !== 'running' ? { state: t.attrs['data-state'], text: t.text } : null;
  }, { timeout: 60_000, what });
}

/** Types `path` into the path bar and waits for the panel to show it. */
async function goTo(browser, path) {
  await (await browser.$(sel('files-path-edit'))).click();
  const input = await browser.$(sel('files-path-input'));
  await input.waitForDisplayed({ timeoutMsg: 'no path input' });
  // The field opens holding the current path, all of it selected: typing replaces it.
  await input.addValue(`${path}\uE007`);
  await waitFor(browser, async () => {
    const p = await panel(browser);
    return p && p.dir === path && !p.loading;
  }, { what: `the panel to show ${path}` });
}

test('F1. files panel: upload through the native picker, see it listed, download it back through the folder picker, the same bytes', { timeout: 240_000 }, async () => {
  const { browser, lab } = ctx;
  const db = await lab.named('db-primary');
  const { index } = await connect(browser, { instanceId: db.id, user: lab.osUser });
  await activateTab(browser, index);

  // What the user has locally, where it goes on the instance, and where it comes back to.
  const local = join(work, 'local');
  const remote = join(work, 'remote dir ü');
  const back = join(work, 'back');
  for (const d of [local, remote, back]) mkdirSync(d, { recursive: true });
  // sshd logs in as the lab's user (ec2-user when the tests run as root): it writes `remote`.
  chmodSync(work, 0o755);
  if (userInfo().username !== lab.osUser) execFileSync('chown', [lab.osUser, remote]);
  // ASCII: the name is typed into the GTK chooser with xdotool (the panel's non-ASCII handling
  // is F2's and the transfer engine's own tests').
  const name = 'report 2026.bin';
  const bytes = randomBytes(3 * 1024 * 1024 + 123);
  writeFileSync(join(local, name), bytes);

  // The toolbar button opens the panel in the remote home.
  await (await browser.$(sel('files-toggle'))).click();
  await waitFor(browser, async () => {
    const p = await panel(browser);
    return p && p.dir !== '' && !p.loading;
  }, { timeout: 30_000, what: 'the Files panel to open in the remote home' });
  await goTo(browser, remote);
  assert.deepEqual(await fileRows(browser), [], 'the remote folder starts empty');

  // Upload: the backend opens a GTK file chooser; the user types the file's path into it.
  await (await browser.$(sel('files-upload'))).click();
  await choosePath('^Upload to ', join(local, name));
  const up = await finishedTransfer(browser, 'the upload to finish');
  assert.equal(up.state, 'done', `upload: ${up.text}`);
  await waitFor(browser, async () => (await fileRows(browser)).some((r) => r.name === name),
    { what: `${name} in the listing` });
  const row = (await fileRows(browser)).find((r) => r.name === name);
  assert.deepEqual(row, { name, kind: 'file', size: bytes.length });
  assert.ok(readFileSync(join(remote, name)).equals(bytes), 'the remote file holds the bytes picked');
  await screenshot(browser, 'files-uploaded');

  // Download: the file selected, the backend opens a GTK folder chooser; the user types where.
  await (await browser.$(`${sel('file-row')}[data-name="${name}"]`)).click();
  await (await browser.$(sel('files-download'))).click();
  await choosePath('^Download to folder', back);
  await waitFor(browser, async () => {
    const [t] = await visibleByTestId(browser, 'transfer');
    return t && t.attrs['data-direction'] === 'download' && t.attrs['data-state'] !== 'running';
  }, { timeout: 60_000, what: 'the download to finish' });
  const [down] = await visibleByTestId(browser, 'transfer');
  assert.equal(down.attrs['data-state'], 'done', `download: ${down.text}`);
  assert.ok(readFileSync(join(back, name)).equals(bytes), 'the downloaded file holds the same bytes');
  assert.deepEqual(readdirSync(back), [name], 'no temporary file is left beside it');
});

test('F2. new folder, rename, delete with confirmation; a refused write says why', { timeout: 120_000 }, async () => {
  const { browser } = ctx;
  const remote = join(work, 'remote dir ü');
  await goTo(browser, remote);
  const submitName = async (text) => {
    const input = await browser.$(sel('files-name'));
    await input.waitForDisplayed({ timeoutMsg: 'no name field' });
    await replaceText(browser, input, text);
    await (await browser.$(sel('files-dialog-submit'))).click();
    await waitFor(browser, async () => (await visibleByTestId(browser, 'files-dialog')).length === 0, { what: 'the dialog to close' });
  };
  await (await browser.$(sel('files-mkdir'))).click();
  await submitName('logs 東京');
  await waitFor(browser, async () => (await fileRows(browser)).some((r) => r.name === 'logs 東京' && r.kind === 'dir'),
    { what: 'the new folder listed' });
  writeFileSync(join(remote, 'logs 東京', 'inside.txt'), 'x');

  await (await browser.$(sel('files-rename'))).click();
  await submitName('old logs');
  await waitFor(browser, async () => (await fileRows(browser)).some((r) => r.name === 'old logs'), { what: 'the renamed folder' });
  assert.equal(readFileSync(join(remote, 'old logs', 'inside.txt'), 'utf8'), 'x');

  await (await browser.$(sel('files-delete'))).click();
  const question = await browser.$(sel('files-delete-question'));
  await question.waitForDisplayed({ timeoutMsg: 'no delete confirmation' });
  assert.match(await question.getText(), /everything in it/);
  await (await browser.$(sel('files-dialog-submit'))).click();
  await waitFor(browser, async () => !(await fileRows(browser)).some((r) => r.name === 'old logs'), { what: 'the folder gone' });
  assert.throws(() => readFileSync(join(remote, 'old logs', 'inside.txt')), /ENOENT/);

  // The instance refuses a folder under / (sshd runs as an ordinary user… or root: then /proc).
  await goTo(browser, '/proc');
  await (await browser.$(sel('files-mkdir'))).click();
  const input = await browser.$(sel('files-name'));
  await input.waitForDisplayed({ timeoutMsg: 'no name field' });
  await input.addValue('keyless-e2e');
  await (await browser.$(sel('files-dialog-submit'))).click();
  const [err] = await waitFor(browser, () => visibleByTestId(browser, 'files-dialog-error').then((e) => (e.length ? e : null)),
    { what: 'the refusal shown' });
  assert.ok(err.text.length > 0, 'the server said why');
  await screenshot(browser, 'files-refused');
});
