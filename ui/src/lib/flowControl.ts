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

/**
 * From this many bytes waiting in xterm on, the terminal is flooding (a `cat` of a large file, not
 * a prompt or an `ls`): the page paces its paints meanwhile (framePacing.ts).
 */
export const FLOOD_MARK = WRITE_PIECE;

/** Bytes handed to xterm and not yet parsed (its write callbacks say when). */
export class Backlog {
  private pending = 0;
  private waiters: Array<() => void> = [];
  private floodingNow = false;
  private closed = false;

  /** `onFlood` hears when the backlog reaches FLOOD_MARK (true) and when it falls under (false). */
  constructor(private readonly low = BACKLOG_LOW, private readonly onFlood?: (on: boolean) => void) {}

  get bytes(): number {
    return this.pending;
  }

  added(n: number): void {
    this.pending += n;
    this.noteFlood();
  }

  parsed(n: number): void {
    this.pending -= n;
    this.noteFlood();
    if (this.pending <= this.low) this.release();
  }

  /** The session is over: waiters go on, and a flood in progress ends for `onFlood`. */
  close(): void {
    this.release();
    if (this.floodingNow) this.onFlood?.(false);
    this.floodingNow = false;
    this.closed = true;
  }

  private noteFlood(): void {
    const now = !this.closed && this.pending >= FLOOD_MARK;
    if (now !== this.floodingNow) {
      this.floodingNow = now;
      this.onFlood?.(now);
    }
  }

  /** Resolves once the backlog is at or under the low mark (at once if it is). */
  room(): Promise<void> {
    if (this.pending <= this.low) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
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
