import { readFileSync } from 'node:fs';

import {
  Latchkey,
  SecurityPage,
  enrolTotpOverHttp,
  VerifyPage,
  VirtualAuthenticator,
  holdPasskeyAutofill,
  nextUnusedCode,
  passkeyAutofillCounts,
  totpCode,
  totpStep,
  type EnrolledApp,
} from '../support/app';
import { expect, test, type Account } from '../support/fixtures';

const PASSKEYS_NEED_JS = 'passkeys are a browser API: they need JavaScript';

/**
 * Runs `setUp` on the Security page, signed in as `account`, then signs out.
 * With JavaScript off the page's forms post plainly (SecurityPage's helpers
 * handle both).
 */
async function withSecurityPage<T>(app: Latchkey, account: Account, setUp: (security: SecurityPage) => Promise<T>): Promise<T> {
  await app.signIn(account);
  const security = new SecurityPage(app);
  await security.openFromNav();
  const result = await setUp(security);
  await app.signOut();
  return result;
}

/** A 6-digit code that no step near now (nor the next unused one) accepts. */
function wrongCode(enrolled: EnrolledApp): string {
  const now = totpStep();
  const valid = new Set([now - 1, now, now + 1, enrolled.enrolStep + 1].map((s) => totpCode(enrolled.secret, s)));
  let code = 123456;
  while (valid.has(String(code))) code = (code + 1) % 1_000_000;
  return String(code).padStart(6, '0');
}

test.describe('Security: authenticator app and backup codes', () => {
  // Checks the authenticator-app journey: set up an app on the Security page from the
  // key shown (the code is computed in the test as an app would, RFC 6238); the app is
  // listed. Signing in with the password then asks for a code on /login/verify; a wrong
  // code and the code already spent at enrolment are refused with the tries left, the
  // next code signs in. Both the setup and the code step work without JavaScript too.
  // Threats: a password alone is no longer enough; a code seen once (shoulder-surfed,
  // phished at enrolment) cannot be replayed; guessing is capped at five tries.
  test('an authenticator app is asked for after the password', async ({ app, account, page }) => {
    const enrolled = await withSecurityPage(app, account, async (security) => {
      const added = await security.enrolTotp('Phone');
      await expect(security.credentials(security.totp)).toHaveCount(1);
      await expect(security.totp.getByTestId('totp-start')).toHaveText('Add another app');
      await security.app.reload();
      await expect(security.credential(security.totp, 'Phone')).toBeVisible();
      await expect(security.activity).toContainText('Authenticator app added (Phone)');
      return added;
    });

    await app.open('/login');
    await app.submitSignIn(account.username, account.password);
    await app.arrivedAt('/login/verify');
    await expect(page.getByRole('heading', { name: "Confirm it's you" })).toBeVisible();
    await expect(page.getByTestId('verify-step')).toContainText(`Signing in as ${account.username}`);
    const verify = new VerifyPage(app);

    await verify.submitTotp(wrongCode(enrolled));
    await expect(page.getByText('That code is not right. 4 tries left.')).toBeVisible();
    await expect(page).toHaveURL(/\/login\/verify/);

    // The code typed at enrolment is spent: refused like a wrong one.
    await verify.submitTotp(totpCode(enrolled.secret, enrolled.enrolStep));
    await expect(page.getByText('That code is not right. 3 tries left.')).toBeVisible();

    await verify.submitTotp(nextUnusedCode(enrolled));
    await app.arrivedAt('/myaccount');
    await app.expectSignedInAs(account.username);
  });

  // Checks: backup codes are shown once (ten, with a Download link for a text file
  // holding them); one of them completes a sign-in in place of the authenticator code,
  // works only once, and the Security page then shows 9 of 10 left.
  // Threat: a spent backup code reused by someone who saw it.
  test('a backup code signs in once', async ({ app, account, page }) => {
    const codes = await withSecurityPage(app, account, async (security) => {
      await security.enrolTotp();
      const shown = await security.generateBackupCodes();
      expect(new Set(shown).size).toBe(10);
      const list = security.backupCodes.getByTestId('backup-list');
      const download = list.getByRole('link', { name: 'Download' });
      await expect(download).toHaveAttribute('download', 'latchkey-backup-codes.txt');
      const [file] = await Promise.all([security.page.waitForEvent('download'), download.click()]);
      expect(file.suggestedFilename()).toBe('latchkey-backup-codes.txt');
      const text = readFileSync(await file.path(), 'utf8');
      for (const code of shown) expect(text).toContain(code);

      await security.app.submit(list.getByRole('button', { name: 'I saved them' }));
      await expect(list).toHaveCount(0);
      await expect(security.backupCodes.getByTestId('backup-remaining')).toContainText('10 of 10 codes left');
      await expect(security.backupCodes.getByTestId('backup-generate')).toHaveText('Generate new codes');
      return shown;
    });

    const verify = new VerifyPage(app);
    await app.open('/login');
    await app.submitSignIn(account.username, account.password);
    await app.arrivedAt('/login/verify');
    await verify.submitBackupCode(codes[0]);
    await app.arrivedAt('/myaccount');
    await app.expectSignedInAs(account.username);

    const security = new SecurityPage(app);
    await security.open();
    await expect(security.backupCodes.getByTestId('backup-remaining')).toContainText('9 of 10 codes left');
    await expect(security.activity).toContainText('Backup code used');

    // The same code a second time is refused.
    await app.signOut();
    await app.submitSignIn(account.username, account.password);
    await app.arrivedAt('/login/verify');
    await verify.submitBackupCode(codes[0]);
    await expect(page.getByText('That backup code is not right or was already used. 4 tries left.')).toBeVisible();
    await verify.submitBackupCode(codes[1]);
    await app.arrivedAt('/myaccount');
  });

});

test.describe('Security: passkeys', () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, PASSKEYS_NEED_JS);

  // Checks the passkey journey with a virtual authenticator (Chromium's WebAuthn
  // testing API): add a passkey named "Laptop", see it listed; sign out; on the sign-in
  // page, while its autofill request waits (a person who does not pick from the
  // suggestions), "Sign in with a passkey" stops that request and signs in without a
  // username (a discoverable credential); then remove the passkey after confirming,
  // and it is gone.
  test('a passkey signs in without a username, and can be removed', async ({ app, account, page }) => {
    const authenticator = await VirtualAuthenticator.attach(page);
    await holdPasskeyAutofill(page);
    await app.signIn(account);
    const security = new SecurityPage(app);
    await security.openFromNav();
    await expect(security.passkeys.getByText('No passkeys yet.')).toBeVisible();
    await security.addPasskey('Laptop');
    await expect(security.credentials(security.passkeys)).toHaveCount(1);
    const held = await authenticator.credentials();
    expect(held).toHaveLength(1);
    expect(held[0].isResidentCredential).toBe(true);

    const before = await passkeyAutofillCounts(page);
    await app.signOut();
    // The sign-in page's autofill request is waiting.
    await expect.poll(async () => (await passkeyAutofillCounts(page)).requested).toBe(before.requested + 1);
    await expect(page.getByLabel('Username or email')).toBeEmpty();
    await page.getByTestId('passkey-sign-in').click();
    await app.arrivedAt('/myaccount');
    await app.expectSignedInAs(account.username);
    // It was stopped before the button's request.
    expect(await passkeyAutofillCounts(page)).toEqual({ requested: before.requested + 1, aborted: before.aborted + 1 });

    await security.openFromNav();
    await expect(security.activity).toContainText('Passkey added (Laptop)');
    const row = security.credential(security.passkeys, 'Laptop');
    await expect(row).not.toContainText('Last used Never');
    await row.getByRole('button', { name: 'Remove' }).click();
    await expect(row).toContainText('Remove this passkey?');
    await row.getByTestId('confirm-remove').click();
    await expect(app.status('Removed “Laptop”.')).toBeVisible();
    await expect(security.credentials(security.passkeys)).toHaveCount(0);
    await expect(security.passkeys.getByText('No passkeys yet.')).toBeVisible();
    await expect(security.activity).toContainText('Passkey removed (Laptop)');
    expect(await authenticator.credentials(), 'the authenticator still holds it; the server forgot it').toHaveLength(1);
  });

  // Checks the passkey autofill (conditional mediation) of the sign-in page: the page
  // asks the browser for a passkey as soon as it loads, and when the browser answers
  // (Chromium's virtual authenticator answers at once, as if the person had picked the
  // passkey from the username field's suggestions) the person is signed in.
  test('the sign-in page signs in with the passkey picked from autofill', async ({ app, account, page }) => {
    await VirtualAuthenticator.attach(page);
    await app.signIn(account);
    const security = new SecurityPage(app);
    await security.open();
    await security.addPasskey('Laptop');

    const started = page.waitForRequest((r) => r.url().endsWith('/api/auth/passkey_start') && /conditional=true/.test(r.postData() ?? ''));
    await app.submit(app.signOutButton);
    await started; // from the sign-in page the sign-out led to
    await page.waitForURL((u) => u.pathname === '/myaccount');
    await app.settled();
    await app.expectSignedInAs(account.username);
  });

  // Checks: a passkey is renamed in place (Rename, type, Save) and keeps the new name
  // after a reload.
  test('a passkey can be renamed', async ({ app, account, page }) => {
    await VirtualAuthenticator.attach(page);
    await app.signIn(account);
    const security = new SecurityPage(app);
    await security.open();
    await security.addPasskey('Laptop');

    // The row by position: while it is being edited its name is a field, not text.
    await expect(security.credentials(security.passkeys)).toHaveCount(1);
    const row = security.credentials(security.passkeys).first();
    await row.getByRole('button', { name: 'Rename' }).click();
    await row.getByLabel('Name', { exact: true }).fill('Work laptop');
    await row.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(security.credential(security.passkeys, 'Work laptop')).toBeVisible();
    await expect(security.credential(security.passkeys, 'Laptop')).toHaveCount(0);

    await app.reload();
    await expect(security.credential(security.passkeys, 'Work laptop')).toBeVisible();
    await expect(security.credentials(security.passkeys)).toHaveCount(1);
  });
});

test.describe('Sign-in page: passkey button', () => {
  // Checks: "Sign in with a passkey" is offered only where it can work: with JavaScript
  // once the page is ready; without JavaScript the button is not shown (it would do
  // nothing) and the page says passkeys need JavaScript instead.
  test('is shown only with JavaScript', async ({ app, page, js }) => {
    await app.open('/login');
    const button = page.getByTestId('passkey-sign-in');
    if (js) {
      await expect(button).toBeVisible();
      await expect(button).toHaveText('Sign in with a passkey');
    } else {
      await expect(button).toBeHidden();
      // (getByText skips <noscript>, whose content shows when JavaScript is off.)
      await expect(page.locator('noscript p')).toHaveText('Signing in with a passkey needs JavaScript.');
      await expect(page.locator('noscript p')).toBeVisible();
    }
  });
});

test.describe('Security without JavaScript', () => {
  // Checks that an authenticator app (added over HTTP: adding one in the page needs
  // JavaScript) is renamed and removed with plain forms: the removal is confirmed with a
  // required checkbox, and each post comes back to Security saying what happened.
  // Threat: a person unable to remove a lost phone's authenticator app without JavaScript.
  test('an authenticator app is renamed and removed with plain forms', async ({ app, account, server, page, js }) => {
    test.skip(js, 'checks the plain forms, shown only with JavaScript off');
    const secret = await enrolTotpOverHttp(server.url, account);
    await app.signIn(account, { expectPath: '/login/verify' });
    await new VerifyPage(app).submitTotp(totpCode(secret, totpStep() + 1));
    await app.arrivedAt('/myaccount');
    const security = new SecurityPage(app);
    await security.open();
    await page.getByLabel('New name for Script').fill('Work phone');
    await app.submit(security.totp.getByRole('button', { name: 'Rename' }));
    await expect(app.status('Renamed.')).toBeVisible();
    await expect(security.credential(security.totp, 'Work phone')).toBeVisible();
    await security.totp.getByLabel('Yes, remove this authenticator app').check();
    await app.submit(security.totp.getByRole('button', { name: 'Remove' }));
    await expect(app.status('Removed.')).toBeVisible();
    await expect(security.totp.getByTestId('credential')).toHaveCount(0);
  });
});
