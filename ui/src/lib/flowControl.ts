/**
 * Flow control for terminal output (docs/ipc.md): each chunk is written to xterm with a callback,
 * and only in that callback (xterm has parsed the bytes) does the chunk count as acknowledged.
 * Acks are batched: one `session_ack` per flush with the sum, flushed on a short timer (not
 * requestAnimationFrame: a hidden window gets no frames and the backend would stall) or at once
 * when enough is pending that the backend might otherwise pause.
 */
export type Scheduler = (fn: () => void) => unknown;

export const defaultScheduler: Scheduler = (fn) => setTimeout(fn, 8);

export class Acker {
  private pending = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly send: (bytes: number) => void,
    private readonly schedule: Scheduler = defaultScheduler,
    /** Flush immediately once this much is waiting (well under the backend's 512 KiB resume mark). */
    private readonly flushAt = 128 * 1024,
  ) {}

  /** Call from xterm's write callback with the chunk's byte length. */
  written(bytes: number): void {
    if (this.closed || bytes <= 0) return;
    this.pending += bytes;
    if (this.pending >= this.flushAt) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.closed || this.pending === 0) return;
    const n = this.pending;
    this.pending = 0;
    this.send(n);
  }

  /** The session is gone: drop whatever is pending (its id is no longer valid). */
  close(): void {
    this.closed = true;
    this.pending = 0;
  }

  get unsent(): number {
    return this.pending;
  }
}

/** The minimal xterm surface the writer needs (lets tests use a fake terminal). */
export interface Writable {
  write(data: Uint8Array | string, callback?: () => void): void;
}

/** Writes a chunk and acks it only once xterm has processed it (then tells `parsed`, if any). */
export function writeWithAck(term: Writable, bytes: Uint8Array, acker: Acker, parsed?: (bytes: Uint8Array) => void): void {
  const n = bytes.byteLength;
  term.write(bytes, () => { acker.written(n); parsed?.(bytes); });
}
