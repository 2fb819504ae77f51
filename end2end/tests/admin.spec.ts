// The admin console: switching My Account off and on, and editing its login
// flow. These tests change instance-wide settings, so each starts a Latchkey
// server of its own (the worker's server, shared by other tests, is untouched).

import { Latchkey, SecurityPage, VerifyPage, enrolTotpOverHttp, nextUnusedCode, totpCode, totpStep } from '../support/app';
import { expect, test, type Account, type RunningServer } from '../support/fixtures';
import { ownServer, signInWithTwoFactors } from '../support/console';
import { createAccount } from '../support/server';

const CONSOLE_NEEDS_JS = 'the console is an interactive app: its changes need JavaScript';
const DISABLED = 'My Account has been disabled by the administrator.';

/** Opens the console's My Account page from the account shell's "Console" link, on `tab`. */
async function openMyAccountSettings(admin: Latchkey, tab: 'General' | 'Login Flow' | 'Danger Zone') {
  await admin.page.getByTestId('console-link').click();
  await expect(admin.page).toHaveURL(/\/admin\/applications$/);
  const list = admin.page.getByTestId('applications');
  await expect(list.getByRole('listitem').first()).toContainText('My Account');
  await list.getByRole('link', { name: 'My Account' }).click();
  await expect(admin.heading('My Account')).toBeVisible();
  const link = admin.page.getByRole('navigation', { name: 'My Account settings' }).getByRole('link', { name: tab, exact: true });
  await link.click();
  await expect(link).toHaveAttribute('aria-current', 'page');
}

/** Flips the Danger Zone switch and confirms in the dialog. */
async function flipPortal(admin: Latchkey, action: 'Disable' | 'Enable') {
  await admin.page.getByTestId('disable-switch').click();
  const dialog = admin.page.getByRole('dialog');
  await expect(dialog).toContainText(action === 'Disable' ? 'Disable My Account?' : 'Enable My Account?');
  await dialog.getByTestId('confirm-switch').click();
  await expect(admin.status(action === 'Disable' ? 'My Account is disabled.' : 'My Account is enabled.')).toBeVisible();
}

/** An administrator with an authenticator app (added over HTTP), signed in with it in a browser without JavaScript. */
async function adminWithoutJs(server: RunningServer, newBrowser: (js?: boolean) => Promise<Latchkey>) {
  const adminAccount = createAccount(server, { prefix: 'root', admin: true });
  const secret = await enrolTotpOverHttp(server.url, adminAccount);
  const admin = await newBrowser(false);
  await admin.signIn(adminAccount, { expectPath: '/login/verify' });
  await new VerifyPage(admin).submitTotp(totpCode(secret, totpStep() + 1));
  await admin.arrivedAt('/myaccount');
  return { admin, adminAccount };
}

test.describe('Admin console', () => {
  // Checks the Danger Zone with JavaScript off: the switch is a plain form confirmed with
  // a required checkbox; it disables My Account and enables it again, saying who did it.
  // Threat: an administrator unable to switch My Account off during an incident.
  test('the Danger Zone works without JavaScript', async ({ browser, js }) => {
    test.skip(!js, 'runs once: it opens a browser context of its own with JavaScript off');
    await ownServer(browser, async ({ server, newBrowser }) => {
      const { admin, adminAccount } = await adminWithoutJs(server, newBrowser);
      await admin.open('/admin/applications/myaccount?tab=danger-zone');
      const form = admin.page.getByTestId('switch-form');
      await form.getByLabel('Yes, disable My Account for everyone now').check();
      await admin.submit(form.getByRole('button', { name: 'Disable My Account' }));
      await expect(admin.status('My Account is disabled.')).toBeVisible();
      await expect(admin.page.getByTestId('switched')).toContainText(`Disabled by ${adminAccount.username}`);
      await form.getByLabel('Yes, enable My Account for everyone now').check();
      await admin.submit(form.getByRole('button', { name: 'Enable My Account' }));
      await expect(admin.status('My Account is enabled.')).toBeVisible();
      await expect(admin.page.getByTestId('switched')).toContainText(`Enabled by ${adminAccount.username}`);
    });
  });

  // Checks the Login Flow tab with JavaScript off: the flow is a plain form (a row per
  // step, a checkbox per option); unticking step 2's options removes that step and
  // Update saves it; an older version is restored with a plain form confirmed by a
  // required checkbox.
  // Threat: an administrator without JavaScript unable to change or undo a login flow.
  test('the login flow is edited and restored without JavaScript', async ({ browser, js }) => {
    test.skip(!js, 'runs once: it opens a browser context of its own with JavaScript off');
    await ownServer(browser, async ({ server, newBrowser }) => {
      const { admin, adminAccount } = await adminWithoutJs(server, newBrowser);
      await admin.open('/admin/applications/myaccount?tab=login-flow');
      const form = admin.page.getByTestId('plain-flow-form');
      const step2 = form.getByTestId('plain-step-2');
      await expect(step2.getByLabel('Authenticator app (TOTP)')).toBeChecked();
      await step2.getByLabel('Authenticator app (TOTP)').uncheck();
      await step2.getByLabel('Backup code').uncheck();
      await admin.submit(form.getByRole('button', { name: 'Update' }));
      await expect(admin.status('Saved as version 1.')).toBeVisible();
      await expect(admin.page.getByTestId('plain-step-2').getByRole('checkbox', { checked: true })).toHaveCount(0);
      await expect(admin.page.getByTestId('versions')).toContainText(`Saved by ${adminAccount.username}`);

      const restore = admin.page.getByTestId('plain-restore-0');
      await restore.getByLabel('Yes, make it the flow for the next sign-in').check();
      await admin.submit(restore.getByRole('button', { name: 'Restore' }));
      await expect(admin.status('Restored: it is now version 2')).toBeVisible();
      await expect(admin.page.getByTestId('plain-step-2').getByLabel('Authenticator app (TOTP)')).toBeChecked();
    });
  });

  // Checks the Danger Zone: an admin disables My Account after a confirmation dialog;
  // a person signed in in a second browser sees, on their next page, that the portal
  // is disabled by the administrator (HTTP 403), while the admin still has the console;
  // the admin enables it again and the person's account shows again (same session).
  // Threat: an admin locking themselves out with the switch; the console stays reachable.
  test('an admin disables My Account, a person sees it disabled, and the admin enables it again', async ({ browser, js }) => {
    test.skip(!js, CONSOLE_NEEDS_JS);
    await ownServer(browser, async ({ server, newBrowser }) => {
      const adminAccount = createAccount(server, { prefix: 'root', admin: true });
      const person = createAccount(server, { prefix: 'pat' });
      const admin = await newBrowser();
      const user = await newBrowser();
      await user.signIn(person);
      await user.expectSignedInAs(person.username);

      await signInWithTwoFactors(admin, adminAccount);
      await openMyAccountSettings(admin, 'Danger Zone');
      const dz = admin.page.getByTestId('panel-danger-zone');
      await expect(admin.page.getByTestId('disable-switch')).not.toBeChecked();
      // Cancelling the dialog changes nothing.
      await admin.page.getByTestId('disable-switch').click();
      await admin.page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
      await expect(admin.page.getByTestId('disable-switch')).not.toBeChecked();

      await flipPortal(admin, 'Disable');
      await expect(admin.page.getByTestId('disable-switch')).toBeChecked();
      await expect(dz.getByTestId('switched')).toContainText(`Disabled by ${adminAccount.username}`);

      const response = await user.page.reload();
      expect(response?.status()).toBe(403);
      await user.settled();
      await expect(user.page.getByTestId('portal-disabled')).toContainText(DISABLED);
      await expect(user.shellName).toHaveCount(0);

      // The admin's own My Account is disabled too, but the console is not.
      await admin.page.reload();
      await admin.settled();
      await expect(admin.page.getByTestId('disable-switch')).toBeChecked();
      await flipPortal(admin, 'Enable');
      await expect(admin.page.getByTestId('disable-switch')).not.toBeChecked();
      await expect(dz.getByTestId('switched')).toContainText(`Enabled by ${adminAccount.username}`);

      await user.reload();
      await user.expectSignedInAs(person.username);
    });
  });

  // Checks the Login Flow editor end to end: the admin removes the second step and
  // saves with Update (a person with an authenticator app then signs in with the
  // password alone), then adds a step with the authenticator app for everyone, after
  // leaving with unsaved changes (a link, the Back button) is asked about; the person's next sign-in asks for
  // the code. The version history shows who saved what.
  // Threat: a flow change that silently does not apply (or applies to the wrong people).
  test('the admin edits the login flow and the next sign-in follows it', async ({ browser, js }) => {
    test.skip(!js, CONSOLE_NEEDS_JS);
    await ownServer(browser, async ({ server, newBrowser }) => {
      const adminAccount: Account = createAccount(server, { prefix: 'root', admin: true });
      const person = createAccount(server, { prefix: 'pat' });
      // The person sets up an authenticator app.
      const user = await newBrowser();
      await user.signIn(person);
      const security = new SecurityPage(user);
      await security.open();
      const enrolled = await security.enrolTotp('Phone');
      await user.signOut();

      // The admin signs in with an authenticator app: console changes need
      // two factors (server/tests/it/admin.rs checks the refusal).
      const admin = await newBrowser();
      await signInWithTwoFactors(admin, adminAccount);
      await openMyAccountSettings(admin, 'Login Flow');
      const steps = admin.page.getByTestId('flow-steps');
      await expect(steps.locator('> li')).toHaveCount(2);
      await expect(admin.page.getByTestId('step-2')).toContainText('Authenticator app (TOTP)');
      const update = admin.page.getByTestId('update-flow');
      await expect(update).toBeDisabled();

      // Remove step 2 and save.
      await admin.page.getByRole('button', { name: 'Remove step 2' }).click();
      await expect(steps.locator('> li')).toHaveCount(1);
      await expect(admin.page.getByTestId('unsaved')).toBeVisible();
      await update.click();
      await expect(admin.status('Saved as version 1')).toBeVisible();
      await expect(admin.page.getByTestId('versions')).toContainText(`Saved by ${adminAccount.username}`);

      await user.signIn(person);
      await user.expectSignedInAs(person.username);
      await user.signOut();

      // Add a step: the authenticator app, always.
      await admin.page.getByTestId('add-step').click();
      const step2 = admin.page.getByTestId('step-2');
      await expect(step2).toContainText('No options yet.');
      await expect(admin.page.getByTestId('flow-steps')).toContainText('Step 2 has no options.');
      await expect(update).toBeDisabled();
      await step2.getByTestId('step-2-add-select').selectOption('totp');
      await step2.getByTestId('step-2-add').click();
      await step2.getByTestId('step-2-when').selectOption('always');
      await expect(step2.locator('.chip')).toHaveCount(1);
      await expect(step2.locator('.chip')).toContainText('Authenticator app (TOTP)');

      // Reordering: the app cannot come first (checked in the browser with the
      // server's rules, before saving); moving it back makes the flow valid.
      await admin.page.getByRole('button', { name: 'Move step 2 up' }).click();
      await expect(admin.page.getByTestId('step-1')).toContainText('Authenticator app (TOTP) cannot be offered in step 1');
      await expect(update).toBeDisabled();
      await admin.page.getByRole('button', { name: 'Move step 1 down' }).focus();
      await admin.page.keyboard.press('Enter');
      await expect(admin.page.getByTestId('step-1')).toContainText('Password');
      await expect(admin.page.getByTestId('step-1').locator('.field__error')).toHaveCount(0);
      await expect(admin.page.getByTestId('step-2-when')).toHaveValue('always');

      // Leaving with unsaved changes asks first; staying keeps them.
      let asked = '';
      admin.page.once('dialog', async (d) => {
        asked = d.message();
        await d.dismiss();
      });
      await admin.page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Applications' }).click();
      await expect.poll(() => asked).toContain('unsaved changes to the login flow');
      await expect(admin.page).toHaveURL(/\/admin\/applications\/myaccount/);
      await expect(step2).toBeVisible();

      // So does the browser's Back button, once it would leave the page: back to
      // the General tab asks nothing (tabs keep the edits), back to Applications
      // asks, and staying keeps the edits.
      asked = '';
      admin.page.once('dialog', async (d) => {
        asked = d.message();
        await d.dismiss();
      });
      await admin.page.goBack();
      await expect(admin.page).toHaveURL(/\/admin\/applications\/myaccount(\?tab=general)?$/);
      expect(asked).toBe('');
      await admin.page.goBack();
      await expect.poll(() => asked).toContain('unsaved changes to the login flow');
      await expect(admin.page).toHaveURL(/\/admin\/applications\/myaccount(\?tab=general)?$/);
      await admin.page.getByRole('navigation', { name: 'My Account settings' }).getByRole('link', { name: 'Login Flow', exact: true }).click();
      await expect(step2).toBeVisible();
      await expect(admin.page.getByTestId('unsaved')).toBeVisible();

      await update.click();
      await expect(admin.status('Saved as version 2')).toBeVisible();
      await expect(admin.page.getByTestId('unsaved')).toHaveCount(0);

      await user.signIn(person, { expectPath: '/login/verify' });
      const verify = new VerifyPage(user);
      await verify.submitTotp(nextUnusedCode(enrolled));
      await user.arrivedAt('/myaccount');
      await user.expectSignedInAs(person.username);
      await user.signOut();

      // Restore version 1 (no second step) from the history: saved as version 3.
      await admin.page.getByTestId('restore-1').click();
      await admin.page.getByTestId('confirm-restore').click();
      await expect(admin.status('Restored: it is now version 3')).toBeVisible();
      await expect(steps.locator('> li')).toHaveCount(1);
      await user.signIn(person);
      await user.expectSignedInAs(person.username);

      // Back with unsaved edits, answered "leave": the browser goes on, and
      // nothing was saved.
      await admin.page.getByTestId('add-step').click();
      await expect(admin.page.getByTestId('unsaved')).toBeVisible();
      let left = 0;
      admin.page.on('dialog', async (d) => {
        left += 1;
        await d.accept();
      });
      await admin.page.goBack();
      await admin.page.goBack();
      await expect(admin.page).toHaveURL(/\/admin\/applications$/);
      await expect.poll(() => left).toBe(1);
      await admin.page.getByTestId('applications').getByRole('link', { name: 'My Account' }).click();
      await admin.page.getByRole('navigation', { name: 'My Account settings' }).getByRole('link', { name: 'Login Flow', exact: true }).click();
      await expect(steps.locator('> li')).toHaveCount(1);
      await expect(admin.page.getByTestId('unsaved')).toHaveCount(0);
    });
  });
});
