// End-to-end tests of Latchkey in Debian's Chromium.
//
// Run (scripts/test does this after building):
//   cd end2end && LATCHKEY_BIN=../target/debug/latchkey LATCHKEY_SITE_ROOT=../target/site npx playwright test
//
// Each Playwright worker starts its own Latchkey server on a free port with
// its own temporary SQLite database (support/fixtures.ts), so there is no
// webServer entry here and tests never share accounts.
//
// Two projects run the same specs:
//   hydrate  JavaScript on: the server-rendered page is hydrated by the wasm app
//   ssr      JavaScript off: plain HTML forms posting to /api/..., server redirects
// Tests that only make sense with JavaScript skip themselves in "ssr" and say why.

import { defineConfig, devices } from '@playwright/test';

const chromium = {
  ...devices['Desktop Chrome'],
  // Never downloaded browsers: Debian's Chromium (scripts/tools.sh installs it).
  launchOptions: {
    executablePath: process.env.LATCHKEY_CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  },
};

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  workers: 2,
  retries: 0,
  reporter: 'list',
  // A debug server and a 2-core machine: generous, but a hung test still ends.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  globalTimeout: 20 * 60_000,
  use: {
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    // Recording a trace of every test costs about a third of the run time here:
    // on in CI (kept for failures only), off locally unless asked for with
    // `npx playwright test --trace on`. Failures always keep a screenshot, the
    // browser console and the server's log (support/fixtures.ts).
    trace: process.env.CI ? 'retain-on-failure' : 'off',
    screenshot: 'only-on-failure',
    locale: 'en-GB',
    timezoneId: 'UTC',
  },
  projects: [
    { name: 'hydrate', use: { ...chromium, javaScriptEnabled: true } },
    { name: 'ssr', use: { ...chromium, javaScriptEnabled: false } },
  ],
});
