// The sign-in page is what everyone loads every day, often on a phone: a
// budget on what it downloads. It is served without the WebAssembly app (its
// forms are plain forms; one small script adds passkeys), so its weight is
// the HTML, the stylesheet and that script. Bytes are as transferred
// (compressed as the server sent them), so the figure is deterministic for a
// given build: a test, not a timing.

import type { Page, Response } from '@playwright/test';

import { expect, test } from '../support/fixtures';

/** The sign-in page's budget: everything downloaded before it is interactive. */
const SIGN_IN_BUDGET = 150 * 1024;

/**
 * My Account's budget: everything a first visit downloads from the sign-in
 * page to Security, its largest page, as someone who is not an
 * administrator. A ratchet: 442 KiB when it was set, plus a little room (the
 * goal, 250 KiB, needs islands or route splitting). Raise it only on
 * purpose, in a reviewed commit.
 */
const MY_ACCOUNT_BUDGET = 460 * 1024;

/** Everything under this path is the administrators' bundle (the console's code). */
const CONSOLE_BUNDLE = '/pkg/console/';

/** Collects every response `page` receives while `load` runs; returns them with their transferred body bytes. */
async function transfers(page: Page, load: () => Promise<unknown>) {
  const responses: Response[] = [];
  const listener = (r: Response) => responses.push(r);
  page.on('response', listener);
  await load();
  page.off('response', listener);
  return Promise.all(
    responses.map(async (r) => ({ url: new URL(r.url()).pathname, bytes: (await r.request().sizes()).responseBodySize })),
  );
}

test.describe('Page weight', () => {
  test('the sign-in page loads no app and stays within its budget', async ({ app, page, js }) => {
    test.skip(!js, 'what a page downloads with JavaScript on');
    const got = await transfers(page, () => app.open('/login'));
    const total = got.reduce((sum, t) => sum + t.bytes, 0);
    console.log(`/login transferred ${total} bytes: ${got.map((t) => `${t.url} ${t.bytes}`).join(', ')}`);
    expect(got.map((t) => t.url)).not.toContain('/pkg/frontend_bg.wasm');
    expect(got.map((t) => t.url)).toContain('/pkg/signin.js');
    expect(total, `/login transferred ${total} bytes`).toBeLessThanOrEqual(SIGN_IN_BUDGET);
    // The passkey button is there and works the moment the page is (its script ran).
    await expect(page.getByTestId('passkey-sign-in')).toBeVisible();
  });

  // Threat: the console's code (which calls it makes, how it checks) handed
  // to everyone. People who are not administrators never request it, on any
  // My Account page; administrators load it instead of the other bundle.
  test('My Account stays within its budget and never loads the console for people', async ({ app, page, js, account, newAccount }) => {
    test.skip(!js, 'what a page downloads with JavaScript on');
    const got = await transfers(page, async () => {
      await app.open('/login?next=/myaccount/security');
      await app.submitSignIn(account.username, account.password);
      await app.arrivedAt('/myaccount/security');
    });
    const total = got.reduce((sum, t) => sum + t.bytes, 0);
    console.log(`sign-in to /myaccount/security transferred ${total} bytes: ${got.map((t) => `${t.url} ${t.bytes}`).join(', ')}`);
    expect(got.map((t) => t.url)).toContain('/pkg/frontend_bg.wasm');
    expect(total, `sign-in to Security transferred ${total} bytes`).toBeLessThanOrEqual(MY_ACCOUNT_BUDGET);

    // Every My Account page, moved between inside the app.
    const later = await transfers(page, async () => {
      const pages: [string, string][] = [
        ['Overview', '/myaccount'],
        ['Personal info', '/myaccount/personal-info'],
        ['Sessions', '/myaccount/sessions'],
        ['Recovery', '/myaccount/recovery'],
        ['Applications', '/myaccount/applications'],
        ['Connected apps', '/myaccount/consents'],
        ['Security', '/myaccount/security'],
      ];
      for (const [name, path] of pages) {
        await page.getByRole('navigation', { name: 'My Account' }).getByRole('link', { name, exact: true }).click();
        await page.waitForURL((u) => u.pathname === path);
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      }
    });
    const all = [...got, ...later].map((t) => t.url);
    expect(all.filter((u) => u.startsWith(CONSOLE_BUNDLE))).toEqual([]);
    await expect(page.getByTestId('console-link')).toHaveCount(0);

    const admin = newAccount({ prefix: 'root', admin: true });
    await app.signOut();
    const theirs = await transfers(page, () => app.signIn(admin));
    const urls = theirs.map((t) => t.url);
    expect(urls).toContain(`${CONSOLE_BUNDLE}frontend_bg.wasm`);
    expect(urls).not.toContain('/pkg/frontend_bg.wasm');
    await expect(page.getByTestId('console-link')).toBeVisible();
  });
});
