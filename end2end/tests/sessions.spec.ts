// My Account → Sessions: every browser signed in to the account, and ending them.

import { withSecondBrowser } from '../support/app';
import { expect, test } from '../support/fixtures';

test.describe('Sessions', () => {
  // Checks that a person signed in in two browsers sees both sessions (this one first,
  // marked "This device"), signs the other one out, and the other browser is sent to
  // sign-in on its next page; "Sign out everywhere else" then has nothing left to end.
  // Works the same with JavaScript off (a plain form post per button).
  // Threat: a session on a lost or borrowed device staying usable after its owner ended it.
  test('a person signs another browser out', async ({ app, account, browser, server }) => {
    await withSecondBrowser(browser, server.url, async (other) => {
      await other.signIn(account);
      await app.signIn(account);

      await app.accountNav.getByRole('link', { name: 'Sessions', exact: true }).click();
      await expect(app.heading('Sessions')).toBeVisible();
      const rows = app.page.getByTestId('session');
      await expect(rows).toHaveCount(2);
      await expect(rows.first()).toHaveAttribute('data-current', 'true');
      await expect(rows.first()).toContainText('This device');
      await expect(rows.nth(1)).toContainText('Last active just now');
      await expect(rows.nth(1)).toContainText('with Password');

      await app.submit(rows.nth(1).getByRole('button'));
      await expect(app.status('That session was signed out.')).toBeVisible();
      await expect(rows).toHaveCount(1);
      await expect(app.page.getByTestId('sign-out-others')).toHaveCount(0);

      await other.page.reload();
      await other.arrivedAt('/login');
      await app.reload();
      await app.expectSignedInAs(account.username);
    });
  });
});
