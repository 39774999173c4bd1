import { describe, expect, it } from 'vitest';
import type { ForwardStatus, Profile } from '../generated/bindings';
import { bytesText, forwardLabel } from './forwards.svelte';
import { createMockForwards } from './mockForwards';

const db: Profile = {
  name: 'db', target: 'i-0a1b2c3d4e5f60005',
  forwards: [{ local_port: 15432, host: 'db.internal', port: 5432 }, { local_port: 1, host: 'x', port: 2 }],
};
const request = { region: 'us-east-1', instance_id: 'i-0a1b2c3d4e5f60005', os_user: 'admin', port: 22, via: 'private' as const };

describe('saved forwards', () => {
  it('reads as the sidebar lists them', () => {
    expect(forwardLabel({ local_port: 5432, host: 'db.internal', port: 5432 })).toBe('5432 → db.internal:5432');
    expect(forwardLabel({ local_port: 80, bind: '0.0.0.0', host: '10.0.0.5', port: 8080 })).toBe('0.0.0.0:80 → 10.0.0.5:8080');
    expect(bytesText(512)).toBe('512 B');
    expect(bytesText(1536)).toBe('1.5 KB');
    expect(bytesText(10 * 1024 * 1024)).toBe('10 MB');
  });

  it('the mock goes connecting → listening → stopped, and refuses a taken port as the backend does', async () => {
    const f = createMockForwards(async () => [db], async () => {});
    const seen: ForwardStatus[] = [];
    const id = await f.forwardStart('db', 0, request, (s) => seen.push(s));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen.map((s) => s.state)).toEqual(['listening']);
    expect((await f.forwardList())[0]).toMatchObject({ id, profile: 'db', index: 0, status: { local_address: '127.0.0.1:15432' } });
    await expect(f.forwardStart('db', 0, request, () => {})).rejects.toMatchObject({ kind: 'invalid_input', message: expect.stringContaining('already running') });
    await expect(f.forwardStart('db', 1, request, () => {})).rejects.toMatchObject({ kind: 'io', hint: expect.stringContaining('Is port 1 taken') });
    await expect(f.forwardStart('db', 7, request, () => {})).rejects.toMatchObject({ kind: 'invalid_input' });
    await f.forwardStop(id);
    expect(seen.at(-1)?.state).toBe('stopped');
    expect(await f.forwardList()).toEqual([]);
  });
});
