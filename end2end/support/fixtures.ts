// The `test` every spec imports: Playwright's, plus
//   server     (worker)  this worker's own Latchkey server, stopped at the end
//   baseURL    (test)    that server's URL, so page.goto('/login') just works
//   account    (test)    a fresh ordinary account, unique to the test
//   newAccount (test)    more accounts on demand (e.g. an administrator)
//   js         (test)    true in the "hydrate" project, false in "ssr"
//   app        (test)    act/find/check helpers for the page (support/app.ts)
// and two automatic test fixtures: the hydration probe in every context, and
// a browser-console watch that fails a test on an uncaught page error or a
// Rust panic, and attaches the console and the server log when a test fails.

import { test as base, expect } from '@playwright/test';

import { Latchkey } from './app';
import { installHydrationProbe } from './hydration';
import { createAccount, startServer, type Account, type RunningServer } from './server';

type WorkerFixtures = { server: RunningServer };
type TestFixtures = {
  js: boolean;
  account: Account;
  newAccount: (options?: { prefix?: string; admin?: boolean }) => Account;
  app: Latchkey;
  consoleWatch: void;
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  server: [
    async ({}, use, workerInfo) => {
      const server = await startServer(`w${workerInfo.workerIndex}`);
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  baseURL: async ({ server }, use) => {
    await use(server.url);
  },

  js: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },

  context: async ({ context, js }, use) => {
    if (js) await installHydrationProbe(context);
    await use(context);
  },

  account: async ({ server }, use) => {
    await use(createAccount(server));
  },

  newAccount: async ({ server }, use) => {
    await use((options) => createAccount(server, options));
  },

  app: async ({ page, js }, use) => {
    await use(new Latchkey(page, js));
  },

  consoleWatch: [
    async ({ page, server }, use, testInfo) => {
      const logStart = server.log().length;
      const lines: string[] = [];
      const fatal: string[] = [];
      page.on('console', (m) => {
        const line = `[${m.type()}] ${m.text()}`;
        lines.push(line);
        if (m.type() === 'error' && /panicked|RuntimeError|hydration/i.test(m.text())) fatal.push(line);
      });
      page.on('pageerror', (e) => {
        const line = `[pageerror] ${e.stack ?? e.message}`;
        lines.push(line);
        fatal.push(line);
      });
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('browser-console.txt', { body: lines.join('\n') || '(nothing)', contentType: 'text/plain' });
        await testInfo.attach('server-log.txt', { body: server.log().slice(logStart), contentType: 'text/plain' });
      }
      expect(fatal, 'uncaught errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
export type { Account, RunningServer };
