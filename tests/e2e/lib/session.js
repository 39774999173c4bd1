// Connecting to an instance through the UI and talking to its shell through xterm.
import assert from 'node:assert/strict';

import {
  domTabs, hookActiveTab, hookTabs, replaceText, rowOf, sel, setSearch, terminalLines, visibleByTestId, waitFor,
} from './ui.js';
import { doubleClick } from './x11.js';

/**
 * Opens the connect dialog of an instance row, by one gesture and no other: `enter` (a click
 * selects the row, Enter opens it) or `dblclick` (a real X pointer's double-click: WebDriver's
 * double-click never reaches the page as a `dblclick`).
 */
export async function openConnectDialog(browser, instanceId, { gesture = 'enter' } = {}) {
  await activateTab(browser, 0); // the Instances tab
  // The list is virtualised: a row far down is not in the DOM; narrow the list to it by id.
  const rowSel = `${sel('instance-row')}[data-instance-id="${instanceId}"]`;
  if (!(await browser.execute((s) => document.querySelector(s) !== null, rowSel))) {
    await setSearch(browser, instanceId);
  }
  const row = await rowOf(browser, instanceId);
  await row.scrollIntoView({ block: 'center' }).catch(() => {});
  if (gesture === 'dblclick') {
    await doubleClick(browser, row);
  } else if (gesture === 'enter') {
    await row.click();
    await browser.keys('Enter');
  } else {
    throw new Error(`unknown gesture ${gesture}`);
  }
  const dialog = await browser.$(sel('connect-dialog'));
  await dialog.waitForDisplayed({ timeout: 10_000, timeoutMsg: `no connect-dialog after ${gesture} on ${instanceId}` });
  return dialog;
}

/** Fills the dialog (user; optional via/port) and submits. */
export async function submitConnect(browser, { user, via = null, port = null } = {}) {
  if (user != null) {
    const u = await browser.$(sel('connect-user'));
    await u.waitForDisplayed({ timeoutMsg: 'connect-user not displayed' });
    await replaceText(browser, u, user);
  }
  if (via != null) {
    await (await browser.$(sel('connect-via'))).selectByAttribute('value', via);
  }
  if (port != null) {
    await replaceText(browser, await browser.$(sel('connect-port')), String(port));
  }
  await (await browser.$(sel('connect-submit'))).click();
}

/**
 * Full flow: row → dialog → submit → (host-key dialog → trust) → a connected tab.
 * Returns {index, hostKeyText}: the tab index (hook order) and the host-key dialog's text.
 * `onHostKey` may take screenshots or assert before the decision is clicked.
 */
export async function connect(browser, { instanceId, user, decision = 'trust', expectHostKey = true, onHostKey } = {}) {
  const before = (await hookTabs(browser)).length;
  await openConnectDialog(browser, instanceId);
  await submitConnect(browser, { user });
  let hostKeyText = null;
  if (expectHostKey) {
    const dlg = await browser.$(sel('hostkey-dialog'));
    await dlg.waitForDisplayed({ timeout: 20_000, timeoutMsg: `no hostkey-dialog for ${instanceId}` });
    hostKeyText = (await dlg.getText()).replace(/\s+/g, ' ');
    if (onHostKey) await onHostKey(hostKeyText);
    await (await browser.$(sel(`hostkey-${decision}`))).click();
  }
  const tabs = await waitFor(browser, async () => {
    const t = await hookTabs(browser);
    return t.length > before && t[t.length - 1].status !== 'connecting' ? t : null;
  }, { timeout: 30_000, what: `a new tab for ${instanceId} to leave "connecting"` });
  const index = tabs.length - 1;
  if (tabs[index].status !== 'connected') {
    const errs = await visibleByTestId(browser, 'session-error');
    assert.fail(`tab for ${instanceId} is "${tabs[index].status}", not connected; session-error: ${JSON.stringify(errs)}`);
  }
  return { index, hostKeyText };
}

/** Makes tab `index` the active one (clicks it in the tab strip). */
export async function activateTab(browser, index) {
  if ((await hookActiveTab(browser)) === index) return;
  const tabs = await browser.$$(sel('tab'));
  assert.ok(tabs.length > index, `only ${tabs.length} tab elements, wanted #${index}`);
  await tabs[index].click();
  await waitFor(browser, async () => (await hookActiveTab(browser)) === index, { what: `tab ${index} to become active` });
}

/** The visible terminal (the active session tab's `terminal` element). */
async function visibleTerminal(browser) {
  const terms = await browser.$$(sel('terminal'));
  for (const t of terms) if (await t.isDisplayed()) return t;
  throw new Error(`no visible terminal (of ${terms.length})`);
}

/**
 * Types a line into tab `index`'s terminal + Enter: WebDriver Element Send Keys into xterm's
 * helper textarea (real key events; browser.keys([...]) would press an array as a chord and
 * lose repeated characters). `fast`: the whole line in one Send Keys (as fast as WebKit
 * dispatches); else one character per request, so scenarios about other things do not depend
 * on keystroke ordering under a burst (scenario 4b tests that on its own).
 */
export async function typeLine(browser, index, line, { enter = true, fast = false } = {}) {
  await activateTab(browser, index);
  const term = await visibleTerminal(browser);
  const ta = await term.$('textarea.xterm-helper-textarea');
  await ta.waitForExist({ timeout: 5_000, timeoutMsg: `no xterm textarea in tab ${index}` });
  const focused = () => browser.execute((s) => {
    const a = document.activeElement;
    return Boolean(a && a.classList.contains('xterm-helper-textarea') && a.closest(s)?.checkVisibility?.({ visibilityProperty: true }) !== false);
  }, sel('terminal'));
  if (!(await focused())) {
    await term.click();
    await waitFor(browser, focused, { timeout: 5_000, what: `xterm's textarea focused in tab ${index}` });
  }
  if (fast) {
    await ta.addValue(enter ? `${line}\uE007` : line);
  } else {
    // One Send Keys per character (≈ 20 ms each, a fast typist's pace).
    for (const ch of line) await ta.addValue(ch);
    if (enter) await ta.addValue('\uE007');
  }
}

let nonce = 1000 + Math.floor(Math.random() * 8000);
/**
 * Runs a single-line command in tab `index` and returns its single-line output. The typed line
 * holds `$((n+1))`, the output the evaluated number, so an echo of the input never matches.
 */
export async function roundTrip(browser, index, command, { timeout = 20_000 } = {}) {
  const n = nonce++;
  const start = `<${n + 1}>`;
  await typeLine(browser, index, `echo "<$((${n}+1))>$(${command})</$((${n}+2))>"`);
  const re = new RegExp(`^${start}(.*)</${n + 2}>$`);
  let lines;
  try {
    lines = await waitFor(browser, async () => {
      const ls = await terminalLines(browser, index);
      return ls.some((l) => re.test(l)) ? ls : null;
    }, { timeout, what: `output of \`${command}\` in tab ${index}` });
  } catch (e) {
    const tail = (await terminalLines(browser, index).catch(() => [])).slice(-8).join('\n');
    const tabs = await hookTabs(browser).catch(() => null);
    throw new Error(`${e.message}\n--- tab ${index} of ${JSON.stringify(tabs)}, last lines ---\n${tail}`);
  }
  return lines.map((l) => l.match(re)).find(Boolean)[1];
}

/** Waits until tab `index` reports `status` (hook and the DOM's data-status agree). */
export async function waitTabStatus(browser, index, status, timeout = 20_000) {
  await waitFor(browser, async () => {
    const t = await hookTabs(browser);
    const d = await domTabs(browser);
    return t[index]?.status === status && d[index]?.status === status ? { t, d } : null;
  }, { timeout, what: `tab ${index} to be "${status}"` });
}
