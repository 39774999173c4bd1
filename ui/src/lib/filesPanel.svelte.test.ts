import { describe, expect, it } from 'vitest';
import { createMockBackend, mockInstances } from './mockBackend';
import { FilesState } from './filesPanel.svelte';
import { toConnectRequest } from './tabRequest';

const until = async (cond: () => boolean, what: string, ms = 3000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** A mock backend with one connected session to web-1, and a Files panel on it. */
async function connected() {
  const b = createMockBackend({ slow: 0 });
  const instance = mockInstances().find((i) => i.name === 'web-1')!;
  let up = false;
  const id = await b.openSession({ awsProfile: null, profile: null },
    toConnectRequest({ instance, os_user: 'ec2-user', port: 22, via: 'private' }), 80, 24,
    (e) => { if (e.type === 'connected') up = true; }, () => {});
  await until(() => up, 'connected');
  const files = new FilesState(b);
  files.shown = true;
  await files.attach(id);
  return { b, files, id, tree: b.files.treeOf(instance.instance_id) };
}

describe('the Files panel state', () => {
  it('opens in the remote home and walks folders up and down', async () => {
    const { files } = await connected();
    expect(files.error).toBeNull();
    expect(files.dir).toBe('/home/ec2-user');
    expect(files.visible.map((e) => e.name).slice(0, 2)).toEqual(['app', 'logs']);
    expect(files.visible.some((e) => e.name === '.bashrc')).toBe(false);
    files.showHidden = true;
    expect(files.visible.map((e) => e.name)).toContain('.bashrc');
    await files.cd('/home/ec2-user/logs');
    expect(files.entries).toHaveLength(30);
    await files.up();
    await files.up();
    expect(files.dir).toBe('/home');
  });

  it('a folder it cannot list shows the error and keeps the folder it was in', async () => {
    const { files } = await connected();
    await files.cd('/nowhere');
    expect(files.error?.message).toContain('/nowhere');
    expect(files.dir).toBe('/home/ec2-user');
  });

  it('makes, renames and deletes; a bad name never reaches the backend', async () => {
    const { files, tree } = await connected();
    expect(await files.mkdir('a/b')).toBe(false);
    expect(files.actionError?.kind).toBe('invalid_input');
    expect(await files.mkdir('new folder')).toBe(true);
    expect(tree.has('/home/ec2-user/new folder')).toBe(true);
    expect(files.selected).toBe('/home/ec2-user/new folder');
    await files.cd('/home/ec2-user/new folder');
    expect(await files.mkdir('inner')).toBe(true);
    await files.up();
    const entry = files.entries.find((e) => e.name === 'new folder')!;
    expect(await files.rename(entry, 'Ünïcode 東京')).toBe(true);
    expect(tree.has('/home/ec2-user/Ünïcode 東京/inner')).toBe(true);
    const renamed = files.entries.find((e) => e.name === 'Ünïcode 東京')!;
    expect(await files.remove(renamed)).toBe(true);
    expect([...tree.keys()].some((p) => p.includes('東京/'))).toBe(false);
    expect(files.visible.some((e) => e.name === 'Ünïcode 東京')).toBe(false);
  });

  it('a refused action says why, and the listing stays', async () => {
    const { files } = await connected();
    await files.cd('/etc');
    expect(await files.mkdir('x')).toBe(false);
    expect(files.actionError?.message).toContain('Permission denied');
    expect(files.entries.length).toBeGreaterThan(0);
  });

  it('uploads what the picker gave, with progress, and lists it after', async () => {
    const { b, files, tree } = await connected();
    b.files.nextPick = [{ name: 'a.bin', size: 1200 }, { name: 'b.bin', size: 10 }];
    await files.upload();
    expect(files.transfers).toHaveLength(1);
    const t = files.transfers[0]!;
    expect(t.names).toEqual(['a.bin', 'b.bin']);
    await until(() => t.state !== 'running', 'the upload to end');
    expect(t.state).toBe('done');
    expect(t.files.map((f) => [f.name, f.state, f.bytes])).toEqual([['a.bin', 'done', 1200], ['b.bin', 'done', 10]]);
    expect(tree.get('/home/ec2-user/a.bin')?.size).toBe(1200);
    await until(() => files.entries.some((e) => e.name === 'a.bin'), 'the folder to be listed again');
  });

  it('a cancelled picker starts nothing; a failed file keeps its own error', async () => {
    const { b, files } = await connected();
    b.files.nextPick = null;
    await files.upload();
    expect(files.transfers).toHaveLength(0);
    await files.cd('/etc');
    b.files.nextPick = [{ name: 'x.conf', size: 5 }];
    await files.upload();
    const t = files.transfers[0]!;
    await until(() => t.state !== 'running', 'the upload to end');
    expect(t.state).toBe('failed');
    expect(t.files[0]!.error?.message).toContain('Permission denied');
  });

  it('cancels a running transfer; clearing keeps only running ones', async () => {
    const { b, files } = await connected();
    b.files.nextPick = [{ name: 'huge.iso', size: 1e12 }];
    await files.upload();
    const t = files.transfers[0]!;
    await until(() => t.bytes > 0, 'some progress');
    files.cancel(t);
    await until(() => t.state === 'cancelled', 'the cancel');
    files.clearFinished();
    expect(files.transfers).toHaveLength(0);
  });

  it('uploads a drop only when it landed on the shown panel', async () => {
    const { b, files, tree } = await connected();
    files.dropTarget = (x) => x > 500;
    b.files.drop([{ name: 'missed.txt', size: 3 }], 100, 100);
    files.shown = false;
    b.files.drop([{ name: 'hidden.txt', size: 3 }], 600, 100);
    files.shown = true;
    b.files.drop([{ name: 'dropped.txt', size: 3 }], 600, 100);
    await until(() => files.transfers[0]?.state === 'done', 'the dropped upload');
    expect(files.transfers).toHaveLength(1);
    expect(tree.has('/home/ec2-user/dropped.txt')).toBe(true);
    expect(tree.has('/home/ec2-user/missed.txt')).toBe(false);
  });

  it('downloads the selected entry into the picked folder', async () => {
    const { b, files } = await connected();
    files.selected = '/home/ec2-user/notes.md';
    b.files.nextFolder = '/home/me/Downloads';
    await files.download();
    const t = files.transfers[0]!;
    expect([t.direction, t.dest, t.names]).toEqual(['download', '/home/me/Downloads', ['notes.md']]);
    await until(() => t.state === 'done', 'the download');
  });

  it('moves to the new session after a reconnect, in the same folder; a closed tab ends it', async () => {
    const { b, files, id } = await connected();
    await files.cd('/var/log');
    const instance = mockInstances().find((i) => i.name === 'web-1')!;
    let up = false;
    const next = await b.openSession({ awsProfile: null, profile: null },
      toConnectRequest({ instance, os_user: 'ec2-user', port: 22, via: 'private' }), 80, 24,
      (e) => { if (e.type === 'connected') up = true; }, () => {});
    await until(() => up, 'connected');
    await files.attach(next);
    expect([files.session, files.dir]).toEqual([next, '/var/log']);
    await until(() => !b.files.open.has(id), 'the old Files session to close');
    await b.sessionClose(next);
    expect(b.files.open.has(next)).toBe(false);
  });
});
