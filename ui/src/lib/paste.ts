export type PasteAnalysis = {
  /** Number of lines the shell will see (a single trailing newline does not count as a line). */
  lines: number;
  /** Contains control characters other than tab/newline (e.g. ESC sequences). */
  hasControl: boolean;
  /** Ends with a newline: without bracketed paste, the command runs at once. */
  runsImmediately: boolean;
  /** Ask before pasting. */
  needsConfirm: boolean;
};

/**
 * Paste safety: multi-line text (or a line that would run at once because the shell has not
 * enabled bracketed paste, or hidden control characters) is confirmed before it reaches the shell.
 */
export function analysePaste(text: string, bracketedPasteMode: boolean): PasteAnalysis {
  const normalised = text.replace(/\r\n?/g, '\n');
  const body = normalised.endsWith('\n') ? normalised.slice(0, -1) : normalised;
  const lines = body === '' ? (normalised === '' ? 0 : 1) : body.split('\n').length;
  // eslint-disable-next-line no-control-regex
  const hasControl = /[\u0000-\u0008\u000b-\u001f\u007f\u0080-\u009f]/.test(normalised);
  const runsImmediately = normalised.endsWith('\n') && !bracketedPasteMode;
  return { lines, hasControl, runsImmediately, needsConfirm: lines > 1 || hasControl || runsImmediately };
}

/** A short preview for the confirmation dialog. */
export function pastePreview(text: string, maxLines = 12, maxChars = 2000): string {
  const clipped = text.replace(/\r\n?/g, '\n').slice(0, maxChars);
  const lines = clipped.split('\n');
  const shown = lines.slice(0, maxLines).join('\n');
  // eslint-disable-next-line no-control-regex
  const visible = shown.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `^${String.fromCharCode((c.charCodeAt(0) + 64) & 127)}`);
  return lines.length > maxLines || text.length > maxChars ? `${visible}\n…` : visible;
}
