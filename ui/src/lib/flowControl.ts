/**
 * Flow control for terminal output (docs/ipc.md): the page asks the backend for more output only
 * once xterm is nearly through what it has, and the backend stops reading from SSH while the page
 * does not ask. So a 100 MB `cat` never fills xterm's buffer (which drops input past 50 MB), no
 * acknowledgement travels separately, and the page is never idle while the backend has bytes:
 * the next answer is on its way while xterm parses the last ~256 KiB.
 */

/** The minimal xterm surface the writer needs (lets tests use a fake terminal). */
export interface Writable {
  write(data: Uint8Array | string, callback?: () => void): void;
}

/**
 * xterm yields to the page (input, rendering) only between writes, and parses ~50 MB/s: a 1 MiB
 * answer in one write would hold the page ~20 ms, so it goes in pieces of this size (views, no copy).
 */
export const WRITE_PIECE = 64 * 1024;

/** Ask for more once no more than this is written to xterm and not yet parsed. */
export const BACKLOG_LOW = 256 * 1024;

/** Bytes handed to xterm and not yet parsed (its write callbacks say when). */
export class Backlog {
  private pending = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly low = BACKLOG_LOW) {}

  get bytes(): number {
    return this.pending;
  }

  added(n: number): void {
    this.pending += n;
  }

  parsed(n: number): void {
    this.pending -= n;
    if (this.pending <= this.low) this.release();
  }

  /** Resolves once the backlog is at or under the low mark (at once if it is). */
  room(): Promise<void> {
    if (this.pending <= this.low) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The terminal is gone: whoever waits for room goes on (and finds the output over). */
  release(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * Writes bytes to xterm in pieces, each counted in `backlog` until xterm has parsed it (then
 * `parsed`, if given, sees it). Resolves when the page may ask for more.
 */
export function writeTracked(
  term: Writable, bytes: Uint8Array, backlog: Backlog, parsed?: (bytes: Uint8Array) => void,
): Promise<void> {
  for (let at = 0; at < bytes.byteLength; at += WRITE_PIECE) {
    const piece = bytes.subarray(at, at + WRITE_PIECE);
    backlog.added(piece.byteLength);
    term.write(piece, () => { backlog.parsed(piece.byteLength); parsed?.(piece); });
  }
  return backlog.room();
}
