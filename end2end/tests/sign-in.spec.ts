import { Latchkey, MESSAGES } from '../support/app';
import { installHydrationProbe } from '../support/hydration';
import { expect, test } from '../support/fixtures';

test.describe('Sign in', () => {
  // Checks: a wrong password is refused with the generic message and no session starts.
  test('a wrong password is refused', async ({ app, account, page }) => {
    await app.open('/login');
    await app.submitSignIn(account.username, 'not the password');
    await expect(app.alert(MESSAGES.wrongCredentials)).toBeVisible();
    await expect(page).toHaveURL(/\/login/);
    // Still signed out.
    await app.open('/myaccount');
    await expect(page).toHaveURL(/\/login$/);
  });

  // Checks: an unknown account gets exactly the same message as a wrong password.
  // Threat: account enumeration (learning which usernames exist from the sign-in page).
  test('an unknown account gets the same message as a wrong password', async ({ app, account, page }) => {
    await app.open('/login');
    await app.submitSignIn(`${account.username}-nobody`, account.password);
    const unknown = app.alert(MESSAGES.wrongCredentials);
    await expect(unknown).toBeVisible();
    const unknownText = (await unknown.innerText()).trim();

    await app.open('/login');
    await app.submitSignIn(account.username, 'not the password');
    await expect(app.alert(MESSAGES.wrongCredentials)).toHaveText(unknownText);
    await expect(page).toHaveURL(/\/login/);
  });

  // Checks: the right password opens the Overview with the person's name, email and
  // the sign-in just made ("from 127.0.0.1": the browser reached 127.0.0.1); a first
  // sign-in has no previous one.
  test('the right password opens the Overview', async ({ app, account, page }) => {
    await app.signIn(account);
    await expect(page).toHaveURL(/\/myaccount$/);
    await expect(app.heading('Overview')).toBeVisible();
    await app.expectSignedInAs(account.username);
    await expect(page.getByTestId('overview-email')).toHaveText(account.email);
    await expect(page.getByTestId('overview-this-sign-in')).toContainText('from 127.0.0.1');
    await expect(page.getByTestId('overview-last-login')).toHaveText('None before this one.');
  });

  // Checks: after signing in again, Overview shows the earlier sign-in as the
  // previous one, so a person can spot a sign-in that was not theirs.
  test('a second sign-in shows the first as the previous sign-in', async ({ app, account, page, browser, server, js }) => {
    const other = await browser.newContext({ baseURL: server.url, javaScriptEnabled: js });
    try {
      // Typing before hydration could be undone by it: wait for it, as every helper does.
      if (js) await installHydrationProbe(other);
      const first = new Latchkey(await other.newPage(), js);
      await first.signIn(account);
      await expect(first.page).toHaveURL(/\/myaccount$/);
    } finally {
      await other.close();
    }
    await app.signIn(account);
    await expect(page.getByTestId('overview-last-login')).toContainText('from 127.0.0.1');
  });

  // Threat: phishing through the real sign-in page. The no-JavaScript error channel
  // (?__path=…&__err=…) only shows errors the server signed; a forged one is dropped.
  test('a forged error in the address is not shown', async ({ app, page }) => {
    const forged = Buffer.from(JSON.stringify({ Refused: 'Your account is locked. Call +1 555 0100.' })).toString('base64url');
    await app.open(`/login?__path=%2Fapi%2Fauth%2Flogin&__err=${forged}`);
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByText('Your account is locked')).toHaveCount(0);
  });

  // Checks: the email address works as the identifier too, whatever its case.
  test('the email address signs in as well', async ({ app, account }) => {
    await app.open('/login');
    await app.submitSignIn(account.email.toUpperCase(), account.password);
    await app.arrivedAt('/myaccount');
    await app.expectSignedInAs(account.username);
  });

  // Checks: an account page asked for while signed out redirects (303) to the sign-in
  // page with `next`, and signing in returns to that page.
  test('`next` brings the person back to the page they asked for', async ({ app, account, page, request }) => {
    const direct = await request.get('/myaccount/personal-info', { maxRedirects: 0 });
    expect(direct.status()).toBe(303);
    expect(direct.headers()['location']).toMatch(/^\/login\?next=(\/|%2F)myaccount(\/|%2F)personal-info$/);

    await app.open('/myaccount/personal-info');
    await expect(page).toHaveURL(/\/login\?next=/);
    await app.submitSignIn(account.username, account.password);
    await app.arrivedAt('/myaccount/personal-info');
    await expect(app.heading('Personal info')).toBeVisible();
    await expect(page.getByTestId('username')).toHaveText(account.username);
  });

  // Checks: a `next` pointing to another site is ignored; the person lands on /myaccount.
  // Threat: open redirect (a phishing link through the real sign-in page that sends
  // the person on to an attacker's look-alike site after a genuine sign-in).
  for (const next of ['https://evil.example', '//evil.example/myaccount', '/\\evil.example']) {
    test(`an external next=${next} lands on /myaccount`, async ({ app, account, page, context }) => {
      const offsite: string[] = [];
      await context.route((url) => url.hostname.endsWith('evil.example'), (route) => {
        offsite.push(route.request().url());
        return route.abort();
      });
      await app.signIn(account, { next, expectPath: '/myaccount' });
      await expect(page).toHaveURL(/^http:\/\/localhost:\d+\/myaccount$/);
      await expect(app.heading('Overview')).toBeVisible();
      expect(offsite).toEqual([]);
    });
  }
});
