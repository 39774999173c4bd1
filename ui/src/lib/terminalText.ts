// Untrusted text (a tab title is an instance's Name tag, which anyone with ec2:CreateTags
// writes) made safe to write into xterm: every C0/C1 control, DEL and Unicode bidi control is
// shown visibly (\x1b, \u202e) instead of acting on the terminal. The same rules as the core's
// terminal_text module, which the CLI uses.

/** C0 (newline and tab included), DEL, C1; the bidi embeddings/overrides/isolates and marks. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

const hex = (c: string, width: number): string =>
  c.charCodeAt(0).toString(16).padStart(width, '0');

/** `text` with every character that could steer a terminal written as a visible escape. */
export function escapeTerminalText(text: string): string {
  return text.replace(UNSAFE, (c) => (c.charCodeAt(0) < 0x80 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}
