import { describe, expect, it } from 'vitest';
import { MAX_FAILURES, pullOutput, type Fetch } from './outputPull';

/** A backend that answers from a script: a status with bytes, or a thrown network error. */
function scripted(answers: Array<[number, string] | 'error'>): { fetch: Fetch; asked: string[] } {
  const asked: string[] = [];
  const fetch: Fetch = async (url) => {
    asked.push(url);
    const next = answers.shift() ?? [404, ''];
    if (next === 'error') throw new TypeError('Load failed');
    const [status, text] = next;
    return new Response(status === 204 || status === 404 ? null : new TextEncoder().encode(text), { status });
  };
  return { fetch, asked };
}

const noWait = async () => {};
const decode = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join('|');

describe('pullOutput', () => {
  it('hands over each answer in order and stops when the output is over', async () => {
    const backend = scripted([[200, 'one'], [204, ''], [200, 'two'], [404, '']]);
    const got: Uint8Array[] = [];
    expect(await pullOutput('keyless-out://localhost/3', (b) => { got.push(b); }, backend.fetch, noWait)).toBe(true);
    expect(decode(got)).toBe('one|two');
    expect(backend.asked).toEqual(Array(4).fill('keyless-out://localhost/3'));
  });

  it('retries a failed request, backing off, without losing what comes after', async () => {
    const backend = scripted(['error', [500, ''], [200, 'after'], [404, '']]);
    const waits: number[] = [];
    const got: Uint8Array[] = [];
    expect(await pullOutput('u', (b) => { got.push(b); }, backend.fetch, async (ms) => { waits.push(ms); })).toBe(true);
    expect(decode(got)).toBe('after');
    expect(waits).toEqual([50, 100]);
  });

  it('gives up after MAX_FAILURES failures in a row', async () => {
    const backend = scripted(Array(MAX_FAILURES + 5).fill('error'));
    expect(await pullOutput('u', () => {}, backend.fetch, noWait)).toBe(false);
    expect(backend.asked.length).toBe(MAX_FAILURES);
  });
});

describe('pullOutput flow control', () => {
  it('asks again only once the terminal has room', async () => {
    const backend = scripted([[200, 'a'], [200, 'b'], [404, '']]);
    let room!: () => void;
    const got: string[] = [];
    const done = pullOutput('u', (b) => {
      got.push(new TextDecoder().decode(b));
      return new Promise<void>((r) => { room = r; });
    }, backend.fetch, noWait);
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual(['a']);
    expect(backend.asked.length).toBe(1);
    room();
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual(['a', 'b']);
    room();
    expect(await done).toBe(true);
    expect(backend.asked.length).toBe(3);
  });
});
