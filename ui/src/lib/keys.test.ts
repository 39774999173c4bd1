import { describe, expect, it } from 'vitest';
import { matchShortcut, type KeyLike } from './keys';
import { defaultRenderer, isWebKitGTK } from './platform';
import { toApiError, adviceFor, adviceLines, fixText } from './errors';
import { ERROR_KINDS } from '../generated/bindings';
import type { Fix } from '../generated/bindings';

const k = (key: string, code: string, mods: Partial<KeyLike> = {}): KeyLike => ({
  key, code, ctrlKey: false, shiftKey: false, altKey: false, metaKey: false, ...mods,
});

describe('shortcuts', () => {
  it('maps the documented keys', () => {
    expect(matchShortcut(k('W', 'KeyW', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'close-tab' });
    expect(matchShortcut(k('Tab', 'Tab', { ctrlKey: true }))).toEqual({ type: 'next-tab' });
    expect(matchShortcut(k('Tab', 'Tab', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'prev-tab' });
    expect(matchShortcut(k('3', 'Digit3', { ctrlKey: true }))).toEqual({ type: 'goto-tab', index: 2 });
    expect(matchShortcut(k('9', 'Digit9', { ctrlKey: true }))).toEqual({ type: 'last-tab' });
    expect(matchShortcut(k('T', 'KeyT', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'home' });
    expect(matchShortcut(k('I', 'KeyI', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'home' });
    expect(matchShortcut(k('F', 'KeyF', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'find' });
    expect(matchShortcut(k('C', 'KeyC', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'copy' });
    expect(matchShortcut(k('V', 'KeyV', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'paste' });
    expect(matchShortcut(k('E', 'KeyE', { ctrlKey: true, shiftKey: true }))).toEqual({ type: 'files' });
    expect(matchShortcut(k('=', 'Equal', { ctrlKey: true }))).toEqual({ type: 'zoom-in' });
    expect(matchShortcut(k('-', 'Minus', { ctrlKey: true }))).toEqual({ type: 'zoom-out' });
    expect(matchShortcut(k('0', 'Digit0', { ctrlKey: true }))).toEqual({ type: 'zoom-reset' });
    expect(matchShortcut(k('F5', 'F5'))).toEqual({ type: 'refresh' });
    expect(matchShortcut(k('r', 'KeyR', { ctrlKey: true }))).toEqual({ type: 'refresh' });
    expect(matchShortcut(k('f', 'KeyF', { ctrlKey: true }))).toEqual({ type: 'focus-search' });
  });

  it('leaves the shell its keys', () => {
    expect(matchShortcut(k('c', 'KeyC', { ctrlKey: true }))).toBeNull();
    expect(matchShortcut(k('w', 'KeyW', { ctrlKey: true }))).toBeNull();
    expect(matchShortcut(k('a', 'KeyA'))).toBeNull();
    expect(matchShortcut(k('d', 'KeyD', { ctrlKey: true, altKey: true }))).toBeNull();
  });
});

describe('renderer choice', () => {
  const webkitgtk = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
  const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
  const mac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko)';
  it('DOM on WebKitGTK, WebGL elsewhere, override wins', () => {
    expect(isWebKitGTK(webkitgtk)).toBe(true);
    expect(isWebKitGTK(chrome)).toBe(false);
    expect(defaultRenderer(webkitgtk)).toBe('dom');
    expect(defaultRenderer(chrome)).toBe('webgl');
    expect(defaultRenderer(mac)).toBe('webgl');
    expect(defaultRenderer(webkitgtk, 'webgl')).toBe('webgl');
    expect(defaultRenderer(chrome, 'bogus')).toBe('webgl');
  });
});

describe('errors', () => {
  it('normalises rejections into ApiError', () => {
    expect(toApiError({ kind: 'auth_failed', message: 'm', hint: 'h' })).toEqual({ kind: 'auth_failed', message: 'm', hint: 'h', fix: null });
    expect(toApiError({ kind: 'weird', message: 'm' })).toEqual({ kind: 'io', message: 'm', hint: null, fix: null });
    expect(toApiError('boom')).toEqual({ kind: 'io', message: 'boom', hint: null, fix: null });
    expect(toApiError(new Error('x'))).toEqual({ kind: 'io', message: 'x', hint: null, fix: null });
  });

  it('knows every kind the bindings list, and no other', () => {
    for (const kind of ERROR_KINDS) expect(toApiError({ kind, message: 'm' }).kind).toBe(kind);
    expect(ERROR_KINDS).toContain('host_key_changed');
    expect(toApiError({ kind: 'toString', message: 'm' }).kind).toBe('io');
  });

  it('keeps a fix of a known shape, drops anything else', () => {
    const fix = { type: 'sso_login', aws_profile: 'sso-admin' };
    expect(toApiError({ kind: 'credentials', message: 'm', hint: null, fix }).fix).toEqual(fix);
    expect(toApiError({ kind: 'no_address', message: 'm', fix: { type: 'use_address', via: 'public' } }).fix)
      .toEqual({ type: 'use_address', via: 'public' });
    expect(toApiError({ kind: 'credentials', message: 'm', fix: { type: 'sso_login' } }).fix).toBeNull();
    expect(toApiError({ kind: 'no_address', message: 'm', fix: { type: 'use_address', via: 'sideways' } }).fix).toBeNull();
    expect(toApiError({ kind: 'io', message: 'm', fix: { type: 'format_disk' } }).fix).toBeNull();
    expect(toApiError({ kind: 'io', message: 'm', fix: 'sso_login' }).fix).toBeNull();
  });

  it('says each piece of advice once: the hint, then the fix in the app\u2019s words; the checklist only without them', () => {
    const changed = toApiError({
      kind: 'host_key_changed', message: 'HOST KEY CHANGED', hint: 'Verify the new key out of band before trusting it.',
      fix: { type: 'forget_host_key', instance_id: 'i-0123456789abcdef0' },
    });
    const lines = adviceLines(changed);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(changed.hint);
    expect(lines[1]).toMatch(/i-0123456789abcdef0.*reconnect/);
    const net = { kind: 'network' as const, message: 'cannot reach', hint: 'Check the route, the security group and sshd.', fix: null };
    expect(adviceLines(net)).toEqual([net.hint]);
    expect(adviceLines({ ...net, hint: null })).toEqual(adviceFor('network').actions);
  });

  it('words fixes for the app: no CLI flags', () => {
    const fixes: Fix[] = [
      { type: 'sso_login', aws_profile: 'p' }, { type: 'mfa_code', aws_profile: 'p' }, { type: 'choose_region' },
      { type: 'start_instance' }, { type: 'trust_host_key' }, { type: 'use_address', via: 'public' },
    ];
    for (const f of fixes) expect(fixText(f)).not.toMatch(/--|keyless login/);
    expect(fixText({ type: 'use_address', via: 'public' })).toMatch(/Public address in the connect dialog/);
    expect(fixText({ type: 'use_address', via: 'auto' })).toMatch(/Auto address/);
  });

  it('suggests a next action per kind', () => {
    expect(adviceFor('access_denied').actions.join(' ')).toMatch(/IAM policy/);
    expect(adviceFor('auth_failed').actions).toHaveLength(3);
    expect(adviceFor('host_key_changed').actions).toEqual([]);
  });

  it('keeps a timeout a timeout, and offers to try again', () => {
    const message = 'timed out after 15 s waiting for the SSH banner and key exchange from i-0abc at 10.0.0.5:22';
    expect(toApiError({ kind: 'timeout', message, hint: 'h' })).toEqual({ kind: 'timeout', message, hint: 'h', fix: null });
    expect(adviceFor('timeout').retryable).toBe(true);
  });
});
