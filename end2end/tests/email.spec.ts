import { MESSAGES } from '../support/app';
import { expect, test } from '../support/fixtures';
import { linkIn, uniqueName, waitForMail } from '../support/server';

test.describe('Email address', () => {
  // Checks: an account's address is verified by following the link mailed to it
  // (read from the server's outbox), which shows a button rather than acting on
  // the GET. Changing the address on Personal info then marks it unverified, mails
  // a new link to the new address and a notice to the old one; the new address
  // signs in while the old one no longer does; its link verifies it.
  // Threat: a new, unproven address must not inherit the old address's verification
  // (applications trusting `email_verified` could be fooled into account linking).
  test('a changed email is unverified until its mailed link is followed', async ({ app, account, server, page }) => {
    const badge = (name: string) => page.getByTestId('overview-email').locator('xpath=..').getByText(name, { exact: true });

    await app.signIn(account);
    await expect(badge('Unverified')).toBeVisible();

    const newEmail = `${uniqueName('new')}@example.org`;
    await app.open('/myaccount/personal-info');
    await expect(page.getByText('Not verified yet.', { exact: true })).toBeVisible();
    await app.fillPersonalInfo({ email: newEmail.toUpperCase() });
    await app.savePersonalInfo();
    if (app.js) await expect(app.status(`We sent a confirmation link to ${newEmail}`)).toBeVisible();

    const notice = await waitForMail(server, account.email, 'your email address was changed');
    expect(notice.text).toContain(`to ${newEmail}`);
    const mail = await waitForMail(server, newEmail, 'confirm your email address');
    expect(mail.subject).toBe('Latchkey: confirm your email address');

    await app.open('/myaccount');
    await expect(page.getByTestId('overview-email')).toHaveText(newEmail);
    await expect(badge('Unverified')).toBeVisible();

    await app.open(linkIn(mail, '/verify-email'));
    await expect(app.heading('Confirm your email address')).toBeVisible();
    await app.submit(page.getByRole('button', { name: 'Confirm email address' }));
    await expect(page.getByTestId('verify-done')).toContainText('confirmed');

    await app.open('/myaccount');
    await expect(badge('Verified')).toBeVisible();
    await expect(badge('Unverified')).toHaveCount(0);

    // The link worked once.
    await app.open(linkIn(mail, '/verify-email'));
    await app.submit(page.getByRole('button', { name: 'Confirm email address' }));
    await expect(app.alert('does not work any more')).toBeVisible();

    await app.open('/myaccount');
    await app.signOut();
    await app.submitSignIn(account.email, account.password);
    await expect(app.alert(MESSAGES.wrongCredentials)).toBeVisible();
    await app.open('/login');
    await app.submitSignIn(newEmail, account.password);
    await app.arrivedAt('/myaccount');
    await app.expectSignedInAs(account.username);
  });
});
