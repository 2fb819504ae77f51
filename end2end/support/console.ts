// Helpers of the console's specs: a Latchkey server of the test's own (console
// changes are instance-wide), and an administrator signed in with two factors.

import type { Browser, BrowserContext } from '@playwright/test';

import { Latchkey, SecurityPage, VerifyPage, nextUnusedCode, type EnrolledApp } from './app';
import { expect, type Account, type RunningServer } from './fixtures';
import { installHydrationProbe } from './hydration';
import { startServer } from './server';

/** A server of this test's own, and browser contexts on it, all closed at the end. */
export async function ownServer<T>(browser: Browser, run: (s: { server: RunningServer; newBrowser: (js?: boolean) => Promise<Latchkey> }) => Promise<T>) {
  const server = await startServer('admin');
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];
  const newBrowser = async (js = true) => {
    const context = await browser.newContext({ baseURL: server.url, javaScriptEnabled: js, locale: 'en-GB', timezoneId: 'UTC' });
    contexts.push(context);
    await installHydrationProbe(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.stack ?? e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && /panicked|RuntimeError|hydration/i.test(m.text())) errors.push(m.text());
    });
    return new Latchkey(page, js);
  };
  try {
    const result = await run({ server, newBrowser });
    expect(errors, 'uncaught errors in the browser console').toEqual([]);
    return result;
  } catch (e) {
    throw new Error(`${e}\n--- server log ---\n${server.log().slice(-4000)}`);
  } finally {
    for (const c of contexts) await c.close();
    await server.stop();
  }
}

/**
 * Signs an administrator in as console changes need: with a password only the
 * console says two factors are needed (and refuses changes), so the admin adds
 * an authenticator app and signs in again with it.
 */
export async function signInWithTwoFactors(admin: Latchkey, account: Account): Promise<EnrolledApp> {
  await admin.signIn(account);
  await expect(admin.page.getByTestId('needs-two-factors')).toContainText('Changes in the console need two factors');
  const security = new SecurityPage(admin);
  await security.open();
  const app = await security.enrolTotp('Admin phone');
  await admin.signOut();
  await admin.signIn(account, { expectPath: '/login/verify' });
  await new VerifyPage(admin).submitTotp(nextUnusedCode(app));
  await admin.arrivedAt('/myaccount');
  await expect(admin.page.getByTestId('needs-two-factors')).toHaveCount(0);
  return app;
}

