// Saved profiles in the real app's sidebar: rows, the editor, context menus, connecting by click.
import { hookTabs, replaceText, sel, waitFor } from './ui.js';
import { waitTabStatus } from './session.js';

export const rowSel = (name, section = 'group') => `${sel('profile-row')}[data-name="${name}"][data-section="${section}"]`;

/** The sidebar's profile rows as {name, section, group, badge, text}. */
export function profileRows(browser) {
  return browser.execute((s) => [...document.querySelectorAll(s)].map((r) => ({
    name: r.getAttribute('data-name'),
    section: r.getAttribute('data-section'),
    group: r.getAttribute('data-group'),
    badge: r.getAttribute('data-badge'),
    text: (r.innerText ?? r.textContent ?? '').replace(/\s+/g, ' ').trim(),
  })), sel('profile-row'));
}

export async function waitRow(browser, name, { section = 'group', gone = false, timeout = 15_000 } = {}) {
  return waitFor(browser, async () => {
    const r = (await profileRows(browser)).find((x) => x.name === name && x.section === section);
    return gone ? !r : r;
  }, { timeout, what: `profile row "${name}" (${section}) ${gone ? 'to disappear' : 'to appear'}` });
}

/**
 * Right-click, as a contextmenu event at the element's centre (WebKitWebDriver's right-button
 * pointer action leaves its keyboard input source without Shift afterwards: typed capitals and
 * symbols would arrive unshifted).
 */
export async function contextClick(browser, el, menuId) {
  await el.scrollIntoView({ block: 'center' }).catch(() => {});
  const menu = await browser.$(sel(menuId));
  await browser.execute((e) => {
    const r = e.getBoundingClientRect();
    e.dispatchEvent(new MouseEvent('contextmenu', { bubbles: true, cancelable: true, button: 2, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2 }));
  }, el);
  await menu.waitForDisplayed({ timeout: 5_000, timeoutMsg: `no ${menuId} after a right-click` });
  return menu;
}

export async function profileMenu(browser, name, item) {
  const row = await browser.$(rowSel(name));
  await row.waitForDisplayed({ timeoutMsg: `profile row ${name} not displayed` });
  await contextClick(browser, row, 'profile-menu');
  await (await browser.$(sel(`profile-menu-${item}`))).click();
}

export async function editor(browser) {
  const dlg = await browser.$(sel('profile-editor'));
  await dlg.waitForDisplayed({ timeout: 10_000, timeoutMsg: 'no profile-editor' });
  return dlg;
}

export async function fill(browser, fields) {
  for (const [k, v] of Object.entries(fields)) {
    const el = await browser.$(sel(`editor-${k}`));
    if (k === 'via') await el.selectByAttribute('value', v);
    else await replaceText(browser, el, v);
  }
}

export async function saveEditor(browser) {
  const save = await browser.$(sel('editor-save'));
  await waitFor(browser, () => save.isEnabled(), { what: 'editor Save enabled' });
  await save.click();
  await (await browser.$(sel('profile-editor'))).waitForDisplayed({ reverse: true, timeout: 10_000, timeoutMsg: 'the editor stayed open' });
}

/**
 * Answers the host-key question of tab `index` with Trust, then waits for it to be connected.
 * The question must come (a fresh HOME has nothing pinned): a path that trusts silently fails.
 */
export async function trustAndConnect(browser, index) {
  const dlg = await browser.$(sel('hostkey-dialog'));
  const settled = await waitFor(browser, async () => {
    if (await dlg.isDisplayed().catch(() => false)) return 'asked';
    const status = (await hookTabs(browser))[index]?.status;
    return status && status !== 'connecting' ? status : null;
  }, { timeout: 30_000, what: `the host-key dialog for tab ${index}` });
  if (settled !== 'asked') throw new Error(`tab ${index} became "${settled}" without asking about the host key`);
  await (await browser.$(sel('hostkey-trust'))).click();
  await waitTabStatus(browser, index, 'connected', 30_000);
}

/**
 * One click on a profile's row; resolves with the new tab's index once it is connected. With
 * `trust`, a host-key question is answered Trust; without, none may come (the tab must connect).
 */
export async function connectByClick(browser, name, { trust = true } = {}) {
  const before = (await hookTabs(browser)).length;
  await (await browser.$(rowSel(name))).click();
  await waitFor(browser, async () => (await hookTabs(browser)).length > before, { timeout: 20_000, what: `a tab for ${name}` });
  if (trust) await trustAndConnect(browser, before);
  else await waitTabStatus(browser, before, 'connected', 30_000);
  return before;
}

/** The keys the lab was asked to push, oldest first (throws when the lab does not answer). */
export async function pushes(lab) {
  const res = await fetch(`${lab.endpoint}/_lab/pushes`);
  if (!res.ok) throw new Error(`GET /_lab/pushes: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}
