// Who the real app's window is: the status bar's identity, the AWS profile picker, sign-in.
import assert from 'node:assert/strict';

import { sel, visibleByTestId, waitFor } from './ui.js';

/** The status bar's identity: {text, status, account, arn}, or null when not shown. */
export async function identity(browser) {
  const [el] = await visibleByTestId(browser, 'identity');
  if (!el) return null;
  return { text: el.text, status: el.attrs['data-status'], account: el.attrs['data-account'], arn: el.attrs['data-arn'] };
}

/** Waits until the identity is known (status ok) and `check(identity)` holds. */
export function waitIdentity(browser, what, check = () => true, timeout = 30_000) {
  return waitFor(browser, async () => {
    const id = await identity(browser);
    return id?.status === 'ok' && check(id) ? id : null;
  }, { timeout, what: `the status bar identity: ${what}` });
}

/** Opens the AWS profile picker; resolves with its options [{name, text, selected}]. */
export async function openPicker(browser) {
  await (await browser.$(sel('aws-profile-picker'))).click();
  await (await browser.$(sel('aws-profile-menu'))).waitForDisplayed({ timeoutMsg: 'the AWS profile menu did not open' });
  return browser.execute((s) => [...document.querySelectorAll(s)].map((o) => ({
    name: o.getAttribute('data-name'),
    text: (o.innerText ?? o.textContent ?? '').replace(/\s+/g, ' ').trim(),
    selected: o.getAttribute('aria-selected') === 'true',
  })), sel('aws-profile-option'));
}

/** Switches the window to an AWS profile through the picker (a click on its option). */
export async function chooseProfile(browser, name) {
  await openPicker(browser);
  await (await browser.$(`${sel('aws-profile-option')}[data-name="${name}"]`)).click();
  await waitFor(browser, async () => (await browser.$(sel('aws-profile-picker')).getAttribute('data-current')) === name,
    { what: `the picker to show ${name}` });
}

/** The sign-in dialog's code, once the backend has one. */
export async function loginCode(browser) {
  const el = await browser.$(sel('login-code'));
  await el.waitForDisplayed({ timeout: 20_000, timeoutMsg: 'the sign-in dialog shows no code' });
  return (await el.getText()).trim();
}

/** Allows a pending IAM Identity Center sign-in in the lab (what the user does in the browser). */
export async function approve(lab, code) {
  const res = await fetch(`${lab.endpoint}/_lab/sso/approve`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_code: code }),
  });
  assert.equal(res.status, 200, `POST /_lab/sso/approve ${code}: HTTP ${res.status} ${await res.text()}`);
}
