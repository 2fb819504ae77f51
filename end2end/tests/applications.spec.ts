// Applications: an administrator registers one in the console (with an
// uploaded logo); a person finds it in My Account by search, stars it and
// launches it. Registering is instance-wide, so each test starts a server
// of its own.

import type { Page } from '@playwright/test';

import { Latchkey } from '../support/app';
import { ownServer, signInWithTwoFactors } from '../support/console';
import { expect, test, type RunningServer } from '../support/fixtures';
import { createAccount } from '../support/server';

// A 2×2 red PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

/** Registers an application over HTTP as the signed-in administrator of `page`. */
async function registerOverHttp(page: Page, server: RunningServer, name: string, accessUrl: string) {
  const r = await page.request.post('/api/admin/application_create', {
    headers: { Origin: server.url },
    form: { 'form[name]': name, 'form[access_url]': accessUrl, 'form[discoverable]': 'on' },
  });
  expect(r.status(), await r.text()).toBe(200);
}

function card(person: Latchkey, handle: string) {
  return person.page.getByTestId(`my-app-${handle}`);
}

test.describe('Applications', () => {
  // Checks the whole path: the console's New application form with an uploaded logo,
  // then My Account's list: search as you type, a star that puts the application first
  // (still first after reload), and Launch opening the access URL in a new tab.
  test('an admin registers an application; a person finds, stars and launches it', async ({ browser, js }) => {
    test.skip(!js, 'the console is an interactive app; the no-JavaScript list has its own test');
    await ownServer(browser, async ({ server, newBrowser }) => {
      const admin = await newBrowser();
      await signInWithTwoFactors(admin, createAccount(server, { prefix: 'root', admin: true }));
      const accessUrl = `${server.url}/healthz`;
      await admin.open('/admin/applications');
      await admin.page.getByTestId('new-application').click();
      await expect(admin.heading('New application')).toBeVisible();
      await admin.page.getByLabel('Name').fill('Payroll');
      await admin.page.getByLabel('Description').fill('Pay slips and tax forms');
      await admin.page.getByLabel('Access URL').fill(accessUrl);
      await admin.page.getByTestId('logo-file').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
      await admin.page.getByTestId('save-app').click();
      await expect(admin.heading('Payroll')).toBeVisible();
      await expect(admin.page).toHaveURL(/\/admin\/applications\/payroll\?created=1$/);
      await expect(admin.page.getByRole('img', { name: 'Current logo' })).toHaveAttribute('src', /^\/logos\/[0-9a-f-]+\?v=/);
      await registerOverHttp(admin.page, server, 'Wiki', 'https://wiki.example/');

      const person = await newBrowser();
      await person.signIn(createAccount(server, { prefix: 'ann' }));
      await person.page.getByRole('navigation', { name: 'My Account' }).getByRole('link', { name: 'Applications' }).click();
      await expect(person.heading('Applications')).toBeVisible();
      const list = person.page.getByTestId('my-applications');
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Payroll', 'Wiki']);
      await expect(card(person, 'payroll').locator('img.app-logo')).toHaveAttribute('src', /^\/logos\//);
      await person.page.getByTestId('search').fill('wik');
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Wiki']);
      await person.page.getByTestId('search').fill('');
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Payroll', 'Wiki']);

      await card(person, 'wiki').getByRole('button', { name: 'Add Wiki to favourites' }).click();
      await expect(card(person, 'wiki').getByTestId('star')).toHaveAttribute('aria-pressed', 'true');
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Wiki', 'Payroll']);
      await person.reload();
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Wiki', 'Payroll']);

      const launch = card(person, 'payroll').getByTestId('launch');
      await expect(launch).toHaveAttribute('rel', 'noopener noreferrer');
      const [tab] = await Promise.all([person.page.context().waitForEvent('page'), launch.click()]);
      await expect(tab).toHaveURL(accessUrl);
      await tab.close();
      await person.reload();
      await expect(person.page.getByTestId('recent')).toContainText('Payroll');
    });
  });

  // Checks My Account's list without JavaScript: the search box is a GET form, the star a
  // plain form that comes back to the same search; Launch is a plain link.
  test('the list, search and stars work without JavaScript', async ({ browser, js }) => {
    test.skip(!js, 'runs once: it opens a browser context of its own with JavaScript off');
    await ownServer(browser, async ({ server, newBrowser }) => {
      const admin = await newBrowser();
      await signInWithTwoFactors(admin, createAccount(server, { prefix: 'root', admin: true }));
      await registerOverHttp(admin.page, server, 'Chat', 'https://chat.example/');
      await registerOverHttp(admin.page, server, 'Calendar', 'https://cal.example/');
      await registerOverHttp(admin.page, server, 'Wiki', 'https://wiki.example/');

      const person = await newBrowser(false);
      await person.signIn(createAccount(server, { prefix: 'bob' }));
      await person.open('/myaccount/applications');
      const list = person.page.getByTestId('my-applications');
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Calendar', 'Chat', 'Wiki']);
      await person.page.getByTestId('search').fill('c');
      await person.submit(person.page.getByRole('button', { name: 'Search' }));
      await expect(person.page).toHaveURL(/\?search=c$/);
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Calendar', 'Chat']);
      await person.submit(card(person, 'chat').getByRole('button', { name: 'Add Chat to favourites' }));
      await expect(person.page).toHaveURL(/\?search=c$/);
      await expect(list.getByRole('heading', { level: 3 })).toHaveText(['Chat', 'Calendar']);
      await expect(card(person, 'chat').getByTestId('launch')).toHaveAttribute('target', '_blank');
    });
  });

  // With nothing discoverable, the page says what to do instead of showing an empty list.
  test('the empty state says what to do', async ({ app, account }) => {
    await app.signIn(account);
    await app.open('/myaccount/applications');
    await expect(app.page.getByTestId('no-applications')).toContainText('administrator can make applications discoverable');
  });
});
