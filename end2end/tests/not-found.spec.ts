import { expect, test } from '../support/fixtures';

test.describe('Unknown pages', () => {
  // Checks: an unknown address answers HTTP 404 with the "Page not found" page
  // (not a 200 soft-404, not a blank page), signed out and signed in alike.
  test('answer 404 with "Page not found"', async ({ app, account, page }) => {
    const signedOut = await app.open('/no-such-page');
    expect(signedOut?.status()).toBe(404);
    await expect(app.heading('Page not found')).toBeVisible();
    await expect(page).toHaveTitle(/Page not found/);
    await expect(page.getByRole('link', { name: 'Go to My Account' })).toHaveAttribute('href', '/myaccount');

    await app.signIn(account);
    const signedIn = await app.open('/definitely/not/here?x=1');
    expect(signedIn?.status()).toBe(404);
    await expect(app.heading('Page not found')).toBeVisible();
  });
});
