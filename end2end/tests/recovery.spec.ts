// Password recovery and change: "Forgot password?" through the mailed link
// (read from the server's outbox), security questions and a recovery email set
// up in My Account → Recovery, and changing the password in Security.

import { withSecondBrowser } from '../support/app';
import { expect, test } from '../support/fixtures';
import { linkIn, waitForMail } from '../support/server';

const NEW_PASSWORD = 'ample tuba cinder orbit';

test.describe('Password recovery', () => {
  // Checks the whole "Forgot password?" path from the sign-in page, with and without
  // JavaScript: the same answer is shown, the link arrives by mail, the new password
  // must meet the policy (checked live with JavaScript), and afterwards the old password
  // no longer works and the new one does. The link works once.
  // Threat: account takeover through recovery; replayed links.
  test('a forgotten password is reset through the mailed link', async ({ app, account, server, page }) => {
    await app.open('/login');
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await app.arrivedAt('/forgot-password');
    await page.getByLabel('Username or email').fill(account.email);
    await app.submit(page.getByRole('button', { name: 'Send reset link' }));
    await expect(page.getByTestId('forgot-sent')).toContainText("If an account matches, we've sent a link");

    const mail = await waitForMail(server, account.email, 'reset your password');
    const link = linkIn(mail, '/reset-password');
    await app.open(link);
    await expect(page.getByTestId('reset-for')).toHaveText(`For the account ${account.username}.`);
    await page.locator('#reset-password').fill('short');
    await page.locator('#reset-confirm').fill('short');
    await app.submit(page.getByRole('button', { name: 'Set new password' }));
    await expect(page.getByText('Use at least 8 characters (5 so far).')).toBeVisible();

    await page.locator('#reset-password').fill(NEW_PASSWORD);
    await page.locator('#reset-confirm').fill(NEW_PASSWORD);
    await app.submit(page.getByRole('button', { name: 'Set new password' }));
    await app.arrivedAt('/login', /reset=1/);
    await expect(app.status('Your password was changed')).toBeVisible();

    await app.submitSignIn(account.username, account.password);
    await expect(app.alert('is not right')).toBeVisible();
    await app.open('/login');
    await app.submitSignIn(account.username, NEW_PASSWORD);
    await app.arrivedAt('/myaccount');
    await waitForMail(server, account.email, 'your password was changed');

    await app.open(link);
    await expect(app.alert('does not work any more')).toBeVisible();
  });

  // Checks My Account → Recovery: two security questions chosen from the list
  // (after confirming it's you), and a recovery email verified by its link; then
  // "Forgot password?" mails the recovery address too, asks the questions, refuses a
  // wrong answer, and a right answer (different case and spacing) sets the password.
  // Threat: a reset link alone (a stolen mailbox) must not be enough.
  // Works the same with JavaScript off: each form posts to the server, which
  // redirects back with the result or the error.
  test('security questions and a recovery email guard the reset', async ({ app, account, server, page, js }) => {
    await app.signIn(account);
    await app.accountNav.getByRole('link', { name: 'Recovery', exact: true }).click();
    await expect(app.heading('Account recovery')).toBeVisible();

    const questions = page.getByTestId('security-questions');
    await questions.getByLabel('Question 1').selectOption('first_pet');
    await questions.getByLabel('Answer 1').fill('Rex');
    await questions.getByLabel('Question 2').selectOption('first_pet');
    await questions.getByLabel('Answer 2').fill('x');
    await app.submit(questions.getByRole('button', { name: 'Save questions' }));
    await expect(questions.getByText('Choose two different questions.')).toBeVisible();
    expect(page.url(), 'answers never travel in the address').not.toContain('Rex');
    await questions.getByLabel('Question 1').selectOption('first_pet');
    await questions.getByLabel('Answer 1').fill('Rex');
    await questions.getByLabel('Question 2').selectOption('first_car');
    await questions.getByLabel('Answer 2').fill('Fiat Panda');
    await app.submit(questions.getByRole('button', { name: 'Save questions' }));
    await expect(app.status('Your security questions were saved.')).toBeVisible();
    await expect(page.getByTestId('questions-current')).toContainText('What was the name of your first pet?');

    const recoveryEmail = `${account.username}@home.example`;
    const section = page.getByTestId('recovery-email');
    await section.getByLabel('Recovery email').fill(recoveryEmail);
    await app.submit(section.getByRole('button', { name: 'Save and send link' }));
    await expect(app.status('We sent a confirmation link to')).toBeVisible();
    await expect(page.getByTestId('recovery-email-current')).toContainText('Waiting for confirmation');
    const confirm = await waitForMail(server, recoveryEmail, 'confirm your recovery email address');
    await app.open(linkIn(confirm, '/verify-email'));
    await app.submit(page.getByRole('button', { name: 'Confirm email address' }));
    // Without JavaScript the redirect does not carry the address (no address in a URL).
    const confirmed = js ? `${recoveryEmail} is confirmed as your recovery email address` : 'your address is confirmed';
    await expect(page.getByTestId('verify-done')).toContainText(confirmed);
    await app.open('/myaccount/recovery');
    await expect(page.getByTestId('recovery-email-current')).toContainText('Verified');
    await app.signOut();

    await app.open('/forgot-password');
    await page.getByLabel('Username or email').fill(account.username);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect(page.getByTestId('forgot-sent')).toBeVisible();
    await waitForMail(server, account.email, 'reset your password');
    const mail = await waitForMail(server, recoveryEmail, 'reset your password');
    await app.open(linkIn(mail, '/reset-password'));
    await page.getByLabel('What was the name of your first pet?').fill('Max');
    await page.getByLabel('What was the make and model of your first car?').fill('Fiat Panda');
    await page.locator('#reset-password').fill(NEW_PASSWORD);
    await page.locator('#reset-confirm').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await expect(app.alert('One or more answers are not right. 2 tries left')).toBeVisible();

    // Without JavaScript the page came back empty: fill the form again.
    await page.getByLabel('What was the name of your first pet?').fill('  rex ');
    await page.getByLabel('What was the make and model of your first car?').fill('Fiat Panda');
    await page.locator('#reset-password').fill(NEW_PASSWORD);
    await page.locator('#reset-confirm').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await app.arrivedAt('/login', /reset=1/);
    await app.submitSignIn(account.username, NEW_PASSWORD);
    await app.arrivedAt('/myaccount');
  });
});

test.describe('Change password', () => {
  // Checks that the password form is a real form: with JavaScript on or off it posts
  // (never a GET with the passwords in the address), a wrong current password is
  // refused with its message, and the right one changes the password.
  // Threat: passwords in the address bar, browser history and proxy logs.
  test('the password form posts and works with JavaScript on or off', async ({ app, account, page }) => {
    await app.signIn(account);
    await app.open('/myaccount/security');
    const section = page.getByTestId('change-password');
    await expect(section.getByLabel('Sign out of all other sessions')).toBeChecked();
    await section.getByLabel('Current password').fill('not my password');
    await section.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await section.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await app.submit(section.getByRole('button', { name: 'Change password' }));
    await expect(section.getByText('Your current password is not right.')).toBeVisible();
    expect(page.url(), 'no secret in the address').not.toMatch(/password=|current=|confirm=|not%20my|not\+my/);

    await section.getByLabel('Current password').fill(account.password);
    await section.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await section.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await app.submit(section.getByRole('button', { name: 'Change password' }));
    await expect(app.status('Your password was changed.')).toBeVisible();
    expect(page.url()).not.toContain(encodeURIComponent(NEW_PASSWORD).slice(0, 5));
    await app.signOut();
    await app.submitSignIn(account.username, NEW_PASSWORD);
    await app.arrivedAt('/myaccount');
  });

  // Checks Security → Password in two browsers: the policy and the match are checked
  // as the person types, a strength meter rates the new password, a wrong current
  // password is refused, and with "Sign out of all other sessions" (on by default) the
  // other browser is sent to sign-in on its next page while this one stays; a security
  // mail says the password changed; the new password signs in.
  // Threat: a thief's session surviving the owner's password change.
  test('changing the password signs the other browser out', async ({ app, account, browser, server, page, js }) => {
    test.skip(!js, 'changing the password needs JavaScript');
    await withSecondBrowser(browser, server.url, async (other) => {
      await other.signIn(account);
      await app.signIn(account);
      await app.open('/myaccount/security');

      const section = page.getByTestId('change-password');
      await section.getByLabel('New password', { exact: true }).fill('short');
      await expect(section.getByText('Use at least 8 characters (5 so far).')).toBeVisible();
      await section.getByLabel('New password', { exact: true }).fill('password123');
      await expect(page.getByTestId('strength-label')).toHaveText('Strength: Weak');
      await section.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await expect(page.getByTestId('strength-label')).toHaveText(/Strength: (Good|Strong)/);
      await section.getByLabel('Confirm new password').fill(`${NEW_PASSWORD}x`);
      await expect(section.getByText('The two passwords do not match.')).toBeVisible();
      await section.getByLabel('Confirm new password').fill(NEW_PASSWORD);
      await expect(section.getByLabel('Sign out of all other sessions')).toBeChecked();

      await section.getByLabel('Current password').fill('not my password');
      await section.getByRole('button', { name: 'Change password' }).click();
      await expect(section.getByText('Your current password is not right.')).toBeVisible();

      await section.getByLabel('Current password').fill(account.password);
      await section.getByRole('button', { name: 'Change password' }).click();
      await expect(app.status('Your password was changed. 1 other session was signed out.')).toBeVisible();
      await waitForMail(server, account.email, 'your password was changed');

      await other.page.reload();
      await other.arrivedAt('/login');
      await app.reload();
      await app.expectSignedInAs(account.username);
      await app.signOut();
      await app.submitSignIn(account.username, NEW_PASSWORD);
      await app.arrivedAt('/myaccount');
    });
  });
});
