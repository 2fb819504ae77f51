// Act / find / check helpers for Latchkey's pages, so specs read as journeys.
// Every helper works in both projects: with JavaScript (waits for hydration
// after each new document) and without (forms post and the server redirects).

import { expect, type Locator, type Page } from '@playwright/test';

import { waitForHydration } from './hydration';
import type { Account } from './server';

export const MESSAGES = {
  wrongCredentials: 'The username, email or password is not right.',
  saved: 'Your personal info was saved.',
  badEmail: 'Enter an email address like name@example.com.',
  badPhone: 'international format',
  alreadySetUp: 'Latchkey already has an administrator.',
  invalidSetupLink: 'This setup link is not valid',
};

export interface PersonalInfo {
  givenName?: string;
  familyName?: string;
  displayName?: string;
  email?: string;
  phone?: string;
  locale?: string;
  timeZone?: string;
  pictureUrl?: string;
}

const PERSONAL_INFO_INPUTS: Record<keyof PersonalInfo, string> = {
  givenName: '#pi-given-name',
  familyName: '#pi-family-name',
  displayName: '#pi-display-name',
  email: '#pi-email',
  phone: '#pi-phone',
  locale: '#pi-locale',
  timeZone: '#pi-time-zone',
  pictureUrl: '#pi-picture-url',
};

export class Latchkey {
  constructor(
    readonly page: Page,
    /** JavaScript on (the "hydrate" project). */
    readonly js: boolean,
  ) {}

  // ---------------------------------------------------------------- find

  /** An error (role=alert) containing `text`. */
  alert(text: string): Locator {
    return this.page.getByRole('alert').filter({ hasText: text });
  }
  /** A confirmation (role=status, as spinners also are) containing `text`. */
  status(text: string): Locator {
    return this.page.getByRole('status').filter({ hasText: text });
  }
  get shellName(): Locator {
    return this.page.getByTestId('shell-name');
  }
  get signOutButton(): Locator {
    return this.page.getByRole('button', { name: 'Sign out' });
  }
  get accountNav(): Locator {
    return this.page.getByRole('navigation', { name: 'My Account' });
  }
  navLink(name: 'Overview' | 'Personal info'): Locator {
    return this.accountNav.getByRole('link', { name, exact: true });
  }
  heading(name: string): Locator {
    return this.page.getByRole('heading', { level: 1, name, exact: true });
  }
  field(key: keyof PersonalInfo): Locator {
    return this.page.locator(PERSONAL_INFO_INPUTS[key]);
  }
  fieldError(key: keyof PersonalInfo): Locator {
    return this.page.locator(`${PERSONAL_INFO_INPUTS[key]}-error`);
  }
  get saveButton(): Locator {
    return this.page.getByRole('button', { name: 'Save', exact: true });
  }

  // ---------------------------------------------------------------- act

  /** Opens `path` as a new document and waits until it is usable (hydrated when JS is on). */
  async open(path: string) {
    const response = await this.page.goto(path);
    await this.settled();
    return response;
  }

  async reload() {
    await this.page.reload();
    await this.settled();
  }

  /** With JavaScript: waits for the current document to be hydrated. Without: nothing to wait for. */
  async settled() {
    if (this.js) await waitForHydration(this.page);
  }

  /** Waits for a new document at `pathname` (optionally with query `search`) to load, then settles. */
  async arrivedAt(pathname: string, search?: RegExp) {
    await this.page.waitForURL((u) => u.pathname === pathname && (!search || search.test(u.search)));
    await this.settled();
  }

  /**
   * Clicks a submit button. Without JavaScript the browser posts the form and
   * follows the server's redirect: wait for that new document. With
   * JavaScript the app handles the submit in place (callers wait for what
   * they expect to change).
   */
  async submit(button: Locator) {
    if (this.js) {
      await button.click();
      return;
    }
    const main = this.page.mainFrame();
    await Promise.all([this.page.waitForEvent('framenavigated', (f) => f === main), button.click()]);
    await this.page.waitForLoadState('load');
  }

  /** Fills the sign-in form of the current page and presses "Sign in". */
  async submitSignIn(identifier: string, password: string) {
    await this.page.getByLabel('Username or email').fill(identifier);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.submit(this.page.getByRole('button', { name: 'Sign in' }));
  }

  /** Signs in from /login (with `next` if given) and waits for the page it leads to. */
  async signIn(account: Pick<Account, 'username' | 'password'>, options: { next?: string; expectPath?: string } = {}) {
    await this.open(options.next === undefined ? '/login' : `/login?next=${encodeURIComponent(options.next)}`);
    await this.submitSignIn(account.username, account.password);
    await this.arrivedAt(options.expectPath ?? '/myaccount');
  }

  async signOut() {
    await this.submit(this.signOutButton);
    await this.arrivedAt('/login');
  }

  /** Types into the Personal info form (selects pick by value, e.g. "Europe/Paris"). */
  async fillPersonalInfo(values: PersonalInfo) {
    for (const [key, value] of Object.entries(values) as [keyof PersonalInfo, string][]) {
      const input = this.field(key);
      if (key === 'locale' || key === 'timeZone') await input.selectOption(value);
      else await input.fill(value);
    }
  }

  /** Presses Save and waits for the confirmation. */
  async savePersonalInfo() {
    await this.submit(this.saveButton);
    if (!this.js) await expect(this.page).toHaveURL(/\/myaccount\/personal-info\?saved=1$/);
    await expect(this.status(MESSAGES.saved)).toBeVisible();
  }

  // ---------------------------------------------------------------- check

  /** The Personal info form shows exactly these values. */
  async expectPersonalInfo(values: PersonalInfo) {
    for (const [key, value] of Object.entries(values) as [keyof PersonalInfo, string][]) {
      await expect(this.field(key), key).toHaveValue(value);
    }
  }

  /** The person is signed in and sees the account shell with their name. */
  async expectSignedInAs(name: string) {
    await expect(this.shellName).toHaveText(name);
    await expect(this.signOutButton).toBeVisible();
  }
}
