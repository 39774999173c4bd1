import { describe, expect, it } from 'vitest';
import { MAX_FAILURES, OVER, pullOutput, type OpenSocket, type Socket } from './outputSocket';

type Step = string | 'over' | 'drop' | 'refuse' | { lose: string };

/**
 * A backend that follows the protocol from a script: each ask is answered by the next step (bytes,
 * the end, a dropped socket). A socket opened on 'refuse' closes before it opens. `{ lose }`: that
 * answer is sent but the socket drops before the page reads it, so the backend sends it again to
 * the next ask. Every ask must count exactly the bytes the page was handed.
 */
function scripted(steps: Step[]): { open: OpenSocket; asks: number; opened: number } {
  let delivered = 0;
  const state = { asks: 0, opened: 0, open: ((): Socket => { throw new Error(); }) as OpenSocket };
  state.open = () => {
    state.opened++;
    const socket: Socket & { closed: boolean } = {
      binaryType: 'blob', onopen: null, onmessage: null, onclose: null, closed: false,
      send(data: string) {
        expect(data).toBe(`more ${delivered}`);
        expect(socket.closed).toBe(false);
        state.asks++;
        const step = steps.shift() ?? 'over';
        setTimeout(() => answer(step), 0);
      },
    };
    const close = (code: number, reason: string) => {
      socket.closed = true;
      socket.onclose?.({ code, reason } as CloseEvent);
    };
    const answer = (step: Step) => {
      if (step === 'over') close(1000, OVER);
      else if (step === 'drop' || step === 'refuse') close(1006, '');
      else if (typeof step === 'object') { steps.unshift(step.lose); close(1006, ''); }
      else {
        const bytes = new TextEncoder().encode(step);
        delivered += bytes.byteLength;
        socket.onmessage?.({ data: bytes.buffer } as MessageEvent);
      }
    };
    setTimeout(() => {
      if (steps[0] === 'refuse') { steps.shift(); close(1006, ''); } else socket.onopen?.({} as Event);
    }, 0);
    return socket;
  };
  return state;
}

const noWait = async () => {};
const decode = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join('|');

describe('pullOutput', () => {
  it('hands over each answer in order and stops when the output is over', async () => {
    const backend = scripted(['one', 'two', 'over']);
    const got: Uint8Array[] = [];
    expect(await pullOutput('ws://x/3', (b) => { got.push(b); }, backend.open, noWait)).toBe(true);
    expect(decode(got)).toBe('one|two');
    expect(backend.asks).toBe(3);
    expect(backend.opened).toBe(1);
  });

  it('opens the socket again when it drops, backing off, without losing what comes after', async () => {
    const backend = scripted(['refuse', 'before', 'drop', 'after', 'over']);
    const waits: number[] = [];
    const got: Uint8Array[] = [];
    expect(await pullOutput('u', (b) => { got.push(b); }, backend.open, async (ms) => { waits.push(ms); })).toBe(true);
    expect(decode(got)).toBe('before|after');
    // The answer between the two drops reset the count.
    expect(waits).toEqual([50, 50]);
    expect(backend.opened).toBe(3);
  });

  it('counts what it received, so an answer lost with its socket comes again', async () => {
    const backend = scripted(['before', { lose: 'lost once' }, 'after', 'over']);
    const got: Uint8Array[] = [];
    expect(await pullOutput('u', (b) => { got.push(b); }, backend.open, noWait)).toBe(true);
    expect(decode(got)).toBe('before|lost once|after');
    expect(backend.opened).toBe(2);
  });

  it('gives up after MAX_FAILURES drops in a row', async () => {
    const backend = scripted(Array<Step>(MAX_FAILURES + 5).fill('refuse'));
    expect(await pullOutput('u', () => {}, backend.open, noWait)).toBe(false);
    expect(backend.opened).toBe(MAX_FAILURES);
  });

  it('treats a normal close without "over" as a drop', async () => {
    let opened = 0;
    const open: OpenSocket = () => {
      opened++;
      const s: Socket = { binaryType: 'blob', onopen: null, onmessage: null, onclose: null, send() {} };
      setTimeout(() => s.onclose?.({ code: 1000, reason: opened < 3 ? '' : OVER } as CloseEvent), 0);
      return s;
    };
    expect(await pullOutput('u', () => {}, open, noWait)).toBe(true);
    expect(opened).toBe(3);
  });
});

describe('pullOutput flow control', () => {
  it('asks again only once the terminal has room', async () => {
    const backend = scripted(['a', 'b', 'over']);
    let room!: () => void;
    const got: string[] = [];
    const done = pullOutput('u', (b) => {
      got.push(new TextDecoder().decode(b));
      return new Promise<void>((r) => { room = r; });
    }, backend.open, noWait);
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['a']);
    expect(backend.asks).toBe(1);
    room();
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['a', 'b']);
    expect(backend.asks).toBe(2);
    room();
    expect(await done).toBe(true);
    expect(backend.asks).toBe(3);
  });
});
