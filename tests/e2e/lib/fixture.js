// One lab + one app per test file: started in before(), always torn down in after().
import { after, before } from 'node:test';

import { App } from './app.js';
import { Lab } from './lab.js';
import { waitForApp } from './ui.js';

/**
 * Registers before/after hooks; returns a context object filled in before() with
 * {lab, app, browser, regions}. `extraEnv` goes to the app (e.g. KEYLESS_NO_BROWSER=1).
 */
export function labAndApp({ regions = ['us-east-1', 'eu-west-1'], instances = 0, name = 'app', extraEnv = {} } = {}) {
  const ctx = { regions };
  before(async () => {
    ctx.lab = await Lab.up({ instances });
    ctx.app = await App.launch({ lab: ctx.lab, regions, name, extraEnv });
    ctx.browser = ctx.app.browser;
    await waitForApp(ctx.browser);
  }, { timeout: 180_000 });
  after(async () => {
    if (ctx.app && process.env.KEYLESS_E2E_DEBUG) console.error(ctx.app.log().slice(-4000));
    await ctx.app?.close({ saveLogAs: name });
    await ctx.lab?.down();
  }, { timeout: 120_000 });
  return ctx;
}
