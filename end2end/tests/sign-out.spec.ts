import type { APIRequestContext } from '@playwright/test';

import { Latchkey } from '../support/app';
import { expect, test } from '../support/fixtures';
import { installHydrationProbe } from '../support/hydration';

/** What the account API answers to a request carrying `cookie` (as a thief would send it). */
async function meStatus(request: APIRequestContext, origin: string, cookie: string) {
  const res = await request.post('/api/account/me', {
    headers: { Cookie: cookie, Origin: origin, Accept: 'application/json' },
    maxRedirects: 0,
  });
  return res.status();
}

test.describe('Sign out', () => {
  // Checks: "Sign out" ends the session: the browser lands on /login and account
  // pages send it back to /login. A second browser holding a copy of the session
  // cookie (which worked before) is refused too, by pages and by the API: the
  // session is revoked on the server, not merely forgotten by the browser.
  // Threat: a stolen or left-behind session cookie staying usable after sign-out.
  test('ends the session, also for a copy of the cookie', async ({ app, account, page, context, browser, js, server, request }) => {
    await app.signIn(account);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name.includes('latchkey_session'));
    expect(session, 'a session cookie after sign-in').toBeTruthy();
    expect(session!.httpOnly).toBe(true);
    expect(session!.sameSite).toBe('Lax');
    const cookieHeader = `${session!.name}=${session!.value}`;

    // The "thief": another browser with a copy of the cookie. It works before sign-out.
    const other = await browser.newContext({ baseURL: server.url, javaScriptEnabled: js });
    try {
      if (js) await installHydrationProbe(other);
      await other.addCookies([session!]);
      const thief = new Latchkey(await other.newPage(), js);
      await thief.open('/myaccount');
      await expect(thief.page).toHaveURL(/\/myaccount$/);
      await thief.expectSignedInAs(account.username);
      expect(await meStatus(request, server.url, cookieHeader)).toBe(200);

      await app.signOut();
      await expect(page).toHaveURL(/\/login$/);
      await app.open('/myaccount');
      await expect(page).toHaveURL(/\/login$/);
      await app.open('/myaccount/personal-info');
      await expect(page).toHaveURL(/\/login\?next=/);

      // The copy is refused now.
      await thief.open('/myaccount');
      await expect(thief.page).toHaveURL(/\/login$/);
      await expect(thief.page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
      expect(await meStatus(request, server.url, cookieHeader)).toBe(401);
      const direct = await request.get('/myaccount', { headers: { Cookie: cookieHeader }, maxRedirects: 0 });
      expect(direct.status()).toBe(303);
      expect(direct.headers()['location']).toBe('/login');
    } finally {
      await other.close();
    }
  });
});
