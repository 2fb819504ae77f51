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
});
