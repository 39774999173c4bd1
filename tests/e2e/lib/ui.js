// What the tests do with the UI, through the data-testid contract and the KEYLESS_E2E hook
// (window.__keyless = { terminalText(index?), tabs(), activeTab() }).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { SCREENSHOTS } from './paths.js';
import { saveWindowPng } from './xshot.js';

export const sel = (id) => `[data-testid="${id}"]`;


/** Polls fn (async, truthy = done) until timeout; the error names what was awaited and the last value. */
export async function waitFor(browser, fn, { timeout = 15_000, interval = 100, what = 'condition' } = {}) {
  let last;
  try {
    await browser.waitUntil(async () => {
      last = await fn();
      return Boolean(last);
    }, { timeout, interval, timeoutMsg: `timed out after ${timeout} ms waiting for ${what}` });
  } catch (e) {
    const extra = last === undefined ? '' : ` (last value: ${JSON.stringify(last)?.slice(0, 500)})`;
    throw new Error(`${e.message}${extra}`);
  }
  return last;
}

/** Every instance row as {id, state, text, visible}, read in one script round trip. */
export function rows(browser) {
  return browser.execute((s) => {
    // Rendered and not visibility:hidden (inactive tabs stay laid out, hidden). No eval: the CSP forbids it.
    const visible = (e) => (typeof e.checkVisibility === 'function'
      ? e.checkVisibility({ visibilityProperty: true })
      : e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');
    return [...document.querySelectorAll(s)].map((r) => ({
      id: r.getAttribute('data-instance-id'),
      state: r.getAttribute('data-state'),
      text: (r.innerText ?? r.textContent ?? '').replace(/\s+/g, ' ').trim(),
      visible: visible(r),
    }));
  }, sel('instance-row'));
}

/** Region banners as {region, text, visible}. */
export function banners(browser) {
  return browser.execute((s) => {
    // Rendered and not visibility:hidden (inactive tabs stay laid out, hidden). No eval: the CSP forbids it.
    const visible = (e) => (typeof e.checkVisibility === 'function'
      ? e.checkVisibility({ visibilityProperty: true })
      : e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');
    return [...document.querySelectorAll(s)].map((r) => ({
      region: r.getAttribute('data-region'),
      text: (r.innerText ?? r.textContent ?? '').replace(/\s+/g, ' ').trim(),
      visible: visible(r),
    }));
  }, sel('region-banner'));
}

/** The visible elements with this testid as {text, attrs}. */
export function visibleByTestId(browser, id) {
  return browser.execute((s) => {
    // Rendered and not visibility:hidden (inactive tabs stay laid out, hidden). No eval: the CSP forbids it.
    const visible = (e) => (typeof e.checkVisibility === 'function'
      ? e.checkVisibility({ visibilityProperty: true })
      : e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');
    return [...document.querySelectorAll(s)].filter(visible).map((e) => ({
      text: (e.innerText ?? e.textContent ?? '').replace(/\s+/g, ' ').trim(),
      attrs: Object.fromEntries([...e.attributes].map((a) => [a.name, a.value])),
    }));
  }, sel(id));
}

/** Tab strip from the DOM: [{status, text, active}]. */
export function domTabs(browser) {
  return browser.execute((s) => [...document.querySelectorAll(s)].map((t) => ({
    status: t.getAttribute('data-status'),
    text: (t.innerText ?? t.textContent ?? '').replace(/\s+/g, ' ').trim(),
    active: t.getAttribute('aria-selected') === 'true' || t.classList.contains('active'),
  })), sel('tab'));
}

/** window.__keyless is there (KEYLESS_E2E=1) — fail clearly when it is not. */
export async function hookReady(browser) {
  return browser.execute(() => typeof window.__keyless === 'object' && window.__keyless !== null
    && typeof window.__keyless.terminalText === 'function');
}

export function hookTabs(browser) {
  return browser.execute(() => window.__keyless.tabs());
}

export function hookActiveTab(browser) {
  return browser.execute(() => window.__keyless.activeTab());
}

export function terminalText(browser, index) {
  return browser.execute((i) => (i === null ? window.__keyless.terminalText() : window.__keyless.terminalText(i)),
    index ?? null);
}

/** Lines of a terminal's buffer, right-trimmed. */
export async function terminalLines(browser, index) {
  const text = await terminalText(browser, index);
  return String(text ?? '').split('\n').map((l) => l.replace(/\s+$/, ''));
}

/** Waits until the app has loaded and the hook is installed. */
export async function waitForApp(browser, timeout = 30_000) {
  await waitFor(browser, () => hookReady(browser), {
    timeout, what: 'window.__keyless (the KEYLESS_E2E hook) to be installed',
  });
}

/** Screenshot into tests/e2e/screenshots/<name>.png (best effort, never fails a test). */
export async function screenshot(browser, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  try {
    // Let the page paint what the DOM already holds (two animation frames), then capture.
    await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
    await saveWindowPng(file);
    return file;
  } catch (e) {
    console.error(`screenshot ${name} failed: ${e.message}`);
    return null;
  }
}

/** The row element of an instance id. */
export async function rowOf(browser, id) {
  const el = await browser.$(`${sel('instance-row')}[data-instance-id="${id}"]`);
  await el.waitForDisplayed({ timeout: 15_000, timeoutMsg: `row of ${id} not displayed` });
  return el;
}

/**
 * Replaces an input's text the way a user does (select all, delete, type), so the framework's
 * `input` listeners see every change (WebDriver's Element Clear does not fire `input`).
 */
export async function replaceText(browser, el, text) {
  await el.click();
  await browser.keys(['Control', 'a']);
  await browser.keys('Backspace');
  if (text) await el.addValue(text);
  const now = await el.getValue();
  if (now !== text) throw new Error(`input holds ${JSON.stringify(now)}, wanted ${JSON.stringify(text)}`);
}

/** Types into the search box, replacing what was there. */
export async function setSearch(browser, text) {
  const box = await browser.$(sel('search'));
  await box.waitForDisplayed({ timeoutMsg: 'search box not displayed' });
  await replaceText(browser, box, text);
}
