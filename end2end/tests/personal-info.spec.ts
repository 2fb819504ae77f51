import { MESSAGES } from '../support/app';
import { expect, test } from '../support/fixtures';

test.describe('Personal info', () => {
  // Checks the core journey, in both projects: sign in, go to Personal info through
  // the navigation, edit given name, phone and time zone, save, see the confirmation,
  // reload, and find the values stored (the phone normalised to +447700900123); the
  // header shows the new name and the Overview shows times in the chosen time zone.
  test('edits are saved and survive a reload', async ({ app, account, page }) => {
    await app.signIn(account);
    await app.navLink('Personal info').click();
    if (!app.js) await app.arrivedAt('/myaccount/personal-info');
    await expect(page).toHaveURL(/\/myaccount\/personal-info$/);
    await expect(app.heading('Personal info')).toBeVisible();
    await expect(page.getByTestId('username')).toHaveText(account.username);
    await app.expectPersonalInfo({ givenName: '', phone: '', timeZone: '', email: account.email });

    await app.fillPersonalInfo({ givenName: 'Ada', phone: '+44 7700 900123', timeZone: 'Europe/Paris' });
    await app.savePersonalInfo();
    await app.expectPersonalInfo({ givenName: 'Ada', timeZone: 'Europe/Paris' });

    await app.reload();
    await expect(app.heading('Personal info')).toBeVisible();
    await app.expectPersonalInfo({
      givenName: 'Ada',
      familyName: '',
      phone: '+447700900123',
      timeZone: 'Europe/Paris',
      email: account.email,
    });
    await expect(app.shellName).toHaveText('Ada');

    await app.open('/myaccount');
    await expect(page.getByRole('heading', { name: 'Ada', exact: true })).toBeVisible();
    // Times are shown in the person's own time zone once they set one.
    await expect(page.getByTestId('overview-this-sign-in')).toContainText(/CES?T from 127\.0\.0\.1/);
  });

  // Checks: an invalid phone number is refused with a message next to the field, and
  // nothing of the form is written (not even the valid given name typed with it).
  test('an invalid phone is refused and nothing is saved', async ({ app, account, page }) => {
    await app.signIn(account, { next: '/myaccount/personal-info', expectPath: '/myaccount/personal-info' });
    await app.fillPersonalInfo({ givenName: 'Grace', phone: '12345' });
    await app.submit(app.saveButton);

    await expect(app.fieldError('phone')).toContainText(MESSAGES.badPhone);
    await expect(app.field('phone')).toHaveAttribute('aria-invalid', 'true');
    await expect(app.field('phone')).toHaveAttribute('aria-describedby', /pi-phone-error/);
    await expect(app.status(MESSAGES.saved)).toHaveCount(0);

    await app.open('/myaccount/personal-info');
    await app.expectPersonalInfo({ givenName: '', phone: '' });
    await expect(app.fieldError('phone')).toBeEmpty();
    await expect(app.shellName).toHaveText(account.username);
  });

  test.describe('with JavaScript', () => {
    test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'instant field errors are client-side validation: they need JavaScript');

    // Checks: right after a successful save (without a reload), the form shows the
    // stored, normalised values, not what was typed.
    test('after a save the form shows the stored, normalised values', async ({ app, account }) => {
      await app.signIn(account, { next: '/myaccount/personal-info', expectPath: '/myaccount/personal-info' });
      await app.fillPersonalInfo({ phone: '+44 7700 900123', email: account.email.toUpperCase() });
      await app.savePersonalInfo();
      await expect(app.field('phone')).toHaveValue('+447700900123');
      await expect(app.field('email')).toHaveValue(account.email);
    });

    // Checks (hydrate only): an invalid email shows its error as soon as the field is
    // left, before any submit and without asking the server; fixing it clears the
    // error while typing, and Save then works.
    test('an invalid email is flagged while typing, before submit', async ({ app, account, page }) => {
      await app.signIn(account, { next: '/myaccount/personal-info', expectPath: '/myaccount/personal-info' });
      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST') posts.push(r.url());
      });

      await app.field('email').fill('ada@');
      await app.field('email').blur();
      await expect(app.fieldError('email')).toHaveText(MESSAGES.badEmail);
      await expect(app.field('email')).toHaveAttribute('aria-invalid', 'true');

      await app.field('email').pressSequentially('example');
      await expect(app.fieldError('email')).toHaveText(MESSAGES.badEmail);
      await app.field('email').pressSequentially('.com');
      await expect(app.fieldError('email')).toBeEmpty();
      await expect(app.field('email')).not.toHaveAttribute('aria-invalid', 'true');
      expect(posts, 'no request was sent while typing').toEqual([]);

      // Submitting an invalid form is stopped in the browser as well.
      await app.field('phone').fill('nope');
      await app.saveButton.click();
      await expect(app.fieldError('phone')).toContainText(MESSAGES.badPhone);
      expect(posts, 'an invalid form is not sent').toEqual([]);
    });
  });
});
