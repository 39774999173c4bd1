import { describe, expect, it } from 'vitest';
import { analysePaste, pastePreview } from './paste';

describe('analysePaste', () => {
  it('lets a single line through', () => {
    expect(analysePaste('ls -la', true).needsConfirm).toBe(false);
    expect(analysePaste('ls -la', false).needsConfirm).toBe(false);
  });

  it('a single trailing newline is fine with bracketed paste, confirmed without', () => {
    expect(analysePaste('ls\n', true)).toMatchObject({ lines: 1, needsConfirm: false });
    expect(analysePaste('ls\n', false)).toMatchObject({ lines: 1, runsImmediately: true, needsConfirm: true });
  });

  it('confirms multi-line text whatever the mode, CRLF included', () => {
    expect(analysePaste('a\nb', true)).toMatchObject({ lines: 2, needsConfirm: true });
    expect(analysePaste('a\r\nb\r\nc\r\n', true)).toMatchObject({ lines: 3, needsConfirm: true });
    expect(analysePaste('a\rb', true).lines).toBe(2);
  });

  it('confirms hidden control characters (an ESC could end bracketed paste)', () => {
    expect(analysePaste('echo hi\x1b[201~rm -rf ~', true)).toMatchObject({ hasControl: true, needsConfirm: true });
    expect(analysePaste('a\tb', true).needsConfirm).toBe(false);
  });

  it('empty text', () => {
    expect(analysePaste('', false)).toMatchObject({ lines: 0, needsConfirm: false });
  });
});

it('pastePreview shows control characters and clips long text', () => {
  expect(pastePreview('a\x1bb')).toBe('a^[b');
  const long = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
  const p = pastePreview(long, 5);
  expect(p.split('\n')).toHaveLength(6);
  expect(p.endsWith('…')).toBe(true);
});
