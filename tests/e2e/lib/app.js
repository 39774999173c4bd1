// The real Keyless app in a real window (Xvfb), driven over WebDriver: tauri-driver on a free
// port with WebKitWebDriver as the native driver; the app inherits tauri-driver's environment
// (the lab's AWS_* variables, a private HOME/XDG dirs, KEYLESS_E2E=1, KEYLESS_REGIONS).
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { remote } from 'webdriverio';

import { onExit } from './cleanup.js';
import { APP_BIN, LOGS, TAURI_DRIVER, WEBKIT_DRIVER, freshDir } from './paths.js';
import { descendants, killAll, killTree, killTreeSync, withEnv } from './procs.js';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForDriver(port, proc, logFile, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      throw new Error(`tauri-driver exited (${proc.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.status < 500) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${timeoutMs} ms`);
}

/** The environment the app runs with (through tauri-driver and WebKitWebDriver). */
export function appEnv({ lab, home, regions, extra = {} }) {
  const env = { ...process.env };
  // Nothing of the developer's own AWS setup leaks in: only the lab's variables.
  for (const k of Object.keys(env)) if (k.startsWith('AWS_') || k.startsWith('KEYLESS_')) delete env[k];
  Object.assign(env, lab ? lab.env : {});
  const xdg = {
    HOME: home,
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_RUNTIME_DIR: join(home, 'run'),
  };
  for (const d of Object.values(xdg)) mkdirSync(d, { recursive: true, mode: 0o700 });
  Object.assign(env, xdg, {
    KEYLESS_E2E: '1',
    KEYLESS_REGIONS: regions.join(','),
    NO_AT_BRIDGE: '1',
  }, extra);
  return env;
}

export class App {
  /**
   * Starts tauri-driver, then a WebDriver session (which launches the app). `regions` become
   * KEYLESS_REGIONS. Resolves with the App once the session is open (the page may still load).
   * `home`: the HOME of an earlier run (closed with keepHome), to restart the app on its files.
   */
  static async launch({ lab, regions = ['us-east-1', 'eu-west-1'], extraEnv = {}, name = 'app', application = APP_BIN, args = [], home = null } = {}) {
    if (!TAURI_DRIVER) throw new Error('tauri-driver not found (cargo install tauri-driver --locked)');
    if (!existsSync(application)) throw new Error(`no app binary at ${application} (cargo build -p keyless-app)`);
    home ??= freshDir(`${name}-home`);
    const env = appEnv({ lab, home, regions, extra: extraEnv });
    const port = await freePort();
    const nativePort = await freePort();
    const logFile = join(home, 'tauri-driver.log');
    const fd = openSync(logFile, 'a');
    const driver = spawn(TAURI_DRIVER, [
      '--port', String(port), '--native-port', String(nativePort), '--native-driver', WEBKIT_DRIVER,
    ], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const app = new App(driver, home, logFile);
    app.appComm = application.split('/').pop();
    app.unregister = onExit(() => {
      killTreeSync(driver.pid);
      if (!process.env.KEYLESS_E2E_KEEP) rmSync(home, { recursive: true, force: true });
    });
    try {
      await waitForDriver(port, driver, logFile);
      app.launchedAt = performance.now();
      app.browser = await remote({
        hostname: '127.0.0.1',
        port,
        logLevel: process.env.WDIO_LOG_LEVEL ?? 'error',
        connectionRetryCount: 0,
        connectionRetryTimeout: 60_000,
        waitforTimeout: 15_000,
        capabilities: {
          'tauri:options': { application, args },
          // WebKitWebDriver speaks classic WebDriver; no BiDi upgrade attempt.
          'wdio:enforceWebDriverClassic': true,
        },
      });
      app.sessionAt = performance.now();
    } catch (e) {
      await app.close();
      throw new Error(`${e.message}\n--- tauri-driver log ---\n${app.log().slice(-3000)}`);
    }
    return app;
  }

  constructor(driver, home, logFile) {
    this.driver = driver;
    this.home = home;
    this.logFile = logFile;
    this.browser = null;
  }

  log() {
    try { return readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }

  /** The app's own process (the binary WebKitWebDriver launched), or null. */
  appProcess() {
    return descendants(this.driver.pid).find((p) => this.appComm.startsWith(p.comm)) ?? null;
  }

  /** The app process and its WebKit children (WebKitWebProcess, WebKitNetworkProcess, …). */
  appTree() {
    const app = this.appProcess();
    if (!app) return [];
    return [app, ...descendants(app.pid)];
  }

  /** Ends the WebDriver session, then kills tauri-driver and everything under it, by pid. */
  async close({ keepHome = false, saveLogAs = null } = {}) {
    if (this.browser) {
      const b = this.browser;
      this.browser = null;
      await Promise.race([
        b.deleteSession().catch(() => {}),
        new Promise((r) => setTimeout(r, 10_000)),
      ]);
    }
    await killTree(this.driver.pid);
    this.unregister?.();
    if (saveLogAs) {
      mkdirSync(LOGS, { recursive: true });
      try { copyFileSync(this.logFile, join(LOGS, `${saveLogAs}.log`)); } catch { /* no log */ }
    }
    // A WebKit child orphaned when the app went (so not in the tree above) may still be writing
    // its shader cache into HOME: end every process of this run's HOME, then remove it, retrying
    // on ENOTEMPTY for a write already under way.
    await killAll(withEnv('HOME', this.home));
    if (!keepHome && !process.env.KEYLESS_E2E_KEEP) {
      rmSync(this.home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    }
  }
}
