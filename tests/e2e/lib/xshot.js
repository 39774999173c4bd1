// Screenshots of the app's X11 window as the X server holds it (xwd, then pngjs): the pixels a
// user sees. WebKitWebDriver's own screenshot waits for a compositing frame, which never comes when
// the app runs without compositing (its choice on software GL, as under Xvfb), and hangs.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';

const run = promisify(execFile);

/** The X window id of the app's one visible top-level window (title "Keyless"). */
export async function appWindowId() {
  let stdout;
  try {
    ({ stdout } = await run('xdotool', ['search', '--onlyvisible', '--name', '^Keyless$'], { timeout: 10_000 }));
  } catch (e) {
    throw new Error(`xdotool search failed: ${e.stderr || e.message}`);
  }
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length !== 1) throw new Error(`expected one visible X window named Keyless, found ${ids.length}`);
  return ids[0];
}

/** XWD (X Window Dump, ZPixmap, 24/32 bits per pixel true colour) → PNG bytes. */
export function xwdToPng(xwd) {
  const field = (i) => xwd.readUInt32BE(i * 4);
  const [headerSize, version, format, , width, height] = [0, 1, 2, 3, 4, 5].map(field);
  const [byteOrder, bpp, bytesPerLine] = [field(7), field(11), field(12)];
  const masks = [field(14), field(15), field(16)];
  const ncolors = field(19);
  if (version !== 7 || format !== 2 || bpp !== 32) {
    throw new Error(`unsupported XWD image (version ${version}, format ${format}, ${bpp} bits per pixel)`);
  }
  const shifts = masks.map((m) => Math.log2(m & -m));
  const start = headerSize + ncolors * 12;
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * 4;
      const px = byteOrder === 0 ? xwd.readUInt32LE(at) : xwd.readUInt32BE(at);
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) png.data[o + c] = (px & masks[c]) >>> shifts[c];
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** Writes the app window's current pixels to `file` (PNG). */
export async function saveWindowPng(file) {
  const id = await appWindowId();
  const { stdout } = await run('xwd', ['-silent', '-id', id], { encoding: 'buffer', maxBuffer: 256 << 20, timeout: 20_000 });
  writeFileSync(file, xwdToPng(stdout));
}
