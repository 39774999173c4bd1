import { describe, expect, it } from 'vitest';
import { BACKLOG_LOW, Backlog, FLOOD_MARK, WRITE_PIECE, writeTracked, type Writable } from './flowControl';

/** A fake xterm whose write callbacks run only when the test says xterm has parsed. */
class FakeTerm implements Writable {
  queue: Array<() => void> = [];
  written = 0;
  write(data: Uint8Array | string, cb?: () => void) {
    this.written += typeof data === 'string' ? data.length : data.byteLength;
    if (cb) this.queue.push(cb);
  }
  parse(n = Infinity) {
    while (n-- > 0 && this.queue.length) this.queue.shift()!();
  }
}

/** Whether a promise has settled, after the microtasks queued so far have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; });
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

describe('writeTracked', () => {
  it('is ready for more at once while the backlog is small', async () => {
    const term = new FakeTerm();
    const backlog = new Backlog(1000);
    expect(await settled(writeTracked(term, new Uint8Array(600), backlog))).toBe(true);
    expect(backlog.bytes).toBe(600);
  });

  it('asks for more only once xterm has parsed down to the low mark', async () => {
    const term = new FakeTerm();
    const backlog = new Backlog(WRITE_PIECE);
    const ready = writeTracked(term, new Uint8Array(3 * WRITE_PIECE), backlog);
    expect(term.queue.length).toBe(3);
    expect(await settled(ready)).toBe(false);
    term.parse(1);
    expect(await settled(ready)).toBe(false);
    term.parse(1);
    expect(backlog.bytes).toBe(WRITE_PIECE);
    expect(await settled(ready)).toBe(true);
  });

  it('writes a big answer in pieces, in order, and hands each to `parsed` once parsed', () => {
    const term = new FakeTerm();
    const pieces: Uint8Array[] = [];
    const bytes = Uint8Array.from({ length: 2 * WRITE_PIECE + 10 }, (_, i) => i % 251);
    void writeTracked(term, bytes, new Backlog(), (p) => pieces.push(p));
    expect(pieces.length).toBe(0);
    term.parse();
    expect(pieces.map((p) => p.byteLength)).toEqual([WRITE_PIECE, WRITE_PIECE, 10]);
    const joined = new Uint8Array(bytes.byteLength);
    pieces.reduce((at, p) => { joined.set(p, at); return at + p.byteLength; }, 0);
    expect(joined).toEqual(bytes);
  });

  it('writes nothing for no bytes', async () => {
    const term = new FakeTerm();
    expect(await settled(writeTracked(term, new Uint8Array(0), new Backlog()))).toBe(true);
    expect(term.queue.length).toBe(0);
  });

  it('a closed backlog lets the waiting reader go (the terminal is gone)', async () => {
    const term = new FakeTerm();
    const backlog = new Backlog(0);
    const ready = writeTracked(term, new Uint8Array(10), backlog);
    expect(await settled(ready)).toBe(false);
    backlog.close();
    expect(await settled(ready)).toBe(true);
  });
});

describe('Backlog flood notices', () => {
  it('says a flood begins at FLOOD_MARK waiting and ends once xterm parses under it', () => {
    const heard: boolean[] = [];
    const term = new FakeTerm();
    const backlog = new Backlog(BACKLOG_LOW, (on) => heard.push(on));
    void writeTracked(term, new Uint8Array(FLOOD_MARK - 1), backlog);
    term.parse();
    expect(heard).toEqual([]); // a prompt or an `ls` is no flood
    void writeTracked(term, new Uint8Array(3 * WRITE_PIECE), backlog);
    expect(heard).toEqual([true]);
    void writeTracked(term, new Uint8Array(WRITE_PIECE), backlog);
    term.parse(3);
    expect(heard).toEqual([true]); // still FLOOD_MARK waiting: one notice, not one per piece
    term.parse();
    expect(heard).toEqual([true, false]);
  });

  it('ends a flood when closed mid-flood, and hears nothing of the old pieces after', () => {
    const heard: boolean[] = [];
    const term = new FakeTerm();
    const backlog = new Backlog(BACKLOG_LOW, (on) => heard.push(on));
    void writeTracked(term, new Uint8Array(4 * WRITE_PIECE), backlog);
    backlog.close();
    expect(heard).toEqual([true, false]);
    term.parse();
    void writeTracked(term, new Uint8Array(4 * WRITE_PIECE), backlog);
    expect(heard).toEqual([true, false]);
  });
});
