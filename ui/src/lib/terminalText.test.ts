import { describe, expect, it } from 'vitest';
import { escapeTerminalText } from './terminalText';

describe('escapeTerminalText', () => {
  it('leaves ordinary text alone', () => {
    for (const s of ['web-prod', 'café-α', '数据库', 'a \\x1b literal', '']) expect(escapeTerminalText(s)).toBe(s);
  });

  it('shows an OSC title sequence instead of sending it', () => {
    expect(escapeTerminalText('web\x1b]0;pwned\x07-prod')).toBe('web\\x1b]0;pwned\\x07-prod');
  });

  it('escapes C0, DEL and C1 controls', () => {
    expect(escapeTerminalText('a\tb\r\nc\x7f\0')).toBe('a\\x09b\\x0d\\x0ac\\x7f\\x00');
    expect(escapeTerminalText('x\u009b31m\u0085')).toBe('x\\u009b31m\\u0085');
  });

  it('escapes bidi overrides, isolates and marks', () => {
    expect(escapeTerminalText('web\u202edorp')).toBe('web\\u202edorp');
    expect(escapeTerminalText('\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c'))
      .toBe('\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c');
  });
});
