import { describe, expect, it } from 'vitest';
import { Acker, writeWithAck, type Writable } from './flowControl';

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

function manualScheduler() {
  const tasks: Array<() => void> = [];
  return { schedule: (fn: () => void) => { tasks.push(fn); }, run: () => tasks.splice(0).forEach((f) => f()), tasks };
}

describe('Acker', () => {
  it('never acks before the write callback', () => {
    const sent: number[] = [];
    const s = manualScheduler();
    const acker = new Acker((n) => sent.push(n), s.schedule);
    const term = new FakeTerm();
    writeWithAck(term, new Uint8Array(1000), acker);
    writeWithAck(term, new Uint8Array(500), acker);
    s.run();
    expect(sent).toEqual([]);
    expect(acker.unsent).toBe(0);
    term.parse(1);
    s.run();
    expect(sent).toEqual([1000]);
    term.parse();
    s.run();
    expect(sent).toEqual([1000, 500]);
  });

  it('batches callbacks into one ack per flush', () => {
    const sent: number[] = [];
    const s = manualScheduler();
    const acker = new Acker((n) => sent.push(n), s.schedule);
    const term = new FakeTerm();
    for (let i = 0; i < 10; i++) writeWithAck(term, new Uint8Array(100), acker);
    term.parse();
    expect(s.tasks.length).toBe(1);
    expect(sent).toEqual([]);
    s.run();
    expect(sent).toEqual([1000]);
  });

  it('flushes at once past the threshold so the backend never stalls waiting for a timer', () => {
    const sent: number[] = [];
    const s = manualScheduler();
    const acker = new Acker((n) => sent.push(n), s.schedule, 64 * 1024);
    const term = new FakeTerm();
    writeWithAck(term, new Uint8Array(32 * 1024), acker);
    writeWithAck(term, new Uint8Array(32 * 1024), acker);
    term.parse();
    expect(sent).toEqual([64 * 1024]);
    s.run();
    expect(sent).toEqual([64 * 1024]);
  });

  it('the total acked equals the bytes written, after all callbacks', () => {
    const sent: number[] = [];
    const s = manualScheduler();
    const acker = new Acker((n) => sent.push(n), s.schedule);
    const term = new FakeTerm();
    let total = 0;
    for (let i = 1; i <= 50; i++) {
      writeWithAck(term, new Uint8Array(i * 997), acker);
      total += i * 997;
      if (i % 7 === 0) { term.parse(3); s.run(); }
    }
    term.parse();
    s.run();
    expect(sent.reduce((a, b) => a + b, 0)).toBe(total);
    expect(term.written).toBe(total);
  });

  it('drops pending acks once closed (the session id is gone)', () => {
    const sent: number[] = [];
    const s = manualScheduler();
    const acker = new Acker((n) => sent.push(n), s.schedule);
    acker.written(100);
    acker.close();
    s.run();
    acker.written(100);
    acker.flush();
    expect(sent).toEqual([]);
  });
});
