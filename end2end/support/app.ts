// Act / find / check helpers for Latchkey's pages, so specs read as journeys.
// Every helper works in both projects: with JavaScript (waits for hydration
// after each new document) and without (forms post and the server redirects).

import { createHmac } from 'node:crypto';

import { expect, type Browser, type CDPSession, type Locator, type Page } from '@playwright/test';

import { installHydrationProbe, waitForHydration } from './hydration';
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
    return this.page.getByRole('button', { name: 'Sign out', exact: true });
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
    await this.submit(this.page.getByRole('button', { name: 'Sign in', exact: true }));
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

// ---------------------------------------------------------------- security: authenticator apps, backup codes, passkeys

/** RFC 6238 as Latchkey uses it: HMAC-SHA1, 30-second steps, 6 digits. */
export const TOTP_STEP_SECONDS = 30;

/** Decodes RFC 4648 base32 (any case; spaces, dashes and `=` padding ignored). */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.toUpperCase().replace(/[\s=-]/g, '')) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(text)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** The RFC 6238 time step (counter) at `ms` since the epoch. */
export function totpStep(ms = Date.now()): number {
  return Math.floor(ms / 1000 / TOTP_STEP_SECONDS);
}

/** The 6-digit code an authenticator app shows for `step`, from the base32 key (RFC 4226 §5.3). */
export function totpCode(secretBase32: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

/** An authenticator app added in a test: its key and the step whose code was spent on enrolment. */
export interface EnrolledApp {
  name: string;
  secret: string;
  enrolStep: number;
}

/**
 * The code a person would type at sign-in: the current step's code, or the
 * next step's while the current step is the one spent at enrolment (the
 * server refuses a step twice and accepts one step of clock skew either side).
 */
export function nextUnusedCode(app: EnrolledApp): string {
  return totpCode(app.secret, Math.max(app.enrolStep + 1, totpStep()));
}

/**
 * Adds an authenticator app to `account` over HTTP, as a script would (adding
 * one in the page needs JavaScript); returns its key.
 */
export async function enrolTotpOverHttp(base: string, account: Pick<Account, 'username' | 'password'>): Promise<string> {
  const post = async (path: string, form: Record<string, string>, cookie = '') => {
    const r = await fetch(base + path, {
      method: 'POST',
      headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
      body: new URLSearchParams(form).toString(),
    });
    expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
    return r;
  };
  const login = await post('/api/auth/login', { identifier: account.username, password: account.password });
  const cookie = (login.headers.get('set-cookie') ?? '').match(/latchkey_session=[^;]+/)?.[0] ?? '';
  const started = await (await post('/api/security/totp_start', {}, cookie)).json();
  const step = totpStep();
  await post('/api/security/totp_finish', { ceremony: started.ceremony, code: totpCode(started.secret_base32, step), name: 'Script' }, cookie);
  return started.secret_base32;
}

/** The `/myaccount/security` page: its sections and the actions on them (they need JavaScript). */
export class SecurityPage {
  constructor(readonly app: Latchkey) {}

  get page(): Page {
    return this.app.page;
  }
  get passkeys(): Locator {
    return this.page.getByTestId('passkeys');
  }
  get totp(): Locator {
    return this.page.getByTestId('totp');
  }
  get backupCodes(): Locator {
    return this.page.getByTestId('backup-codes');
  }
  get activity(): Locator {
    return this.page.getByTestId('activity');
  }
  get reauth(): Locator {
    return this.page.getByTestId('reauth');
  }
  /** The rows of a section's passkeys or authenticator apps. */
  credentials(section: Locator): Locator {
    return section.getByTestId('credential');
  }
  /** The row of the credential called exactly `name`. */
  credential(section: Locator, name: string): Locator {
    const exactly = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    return this.credentials(section).filter({ has: this.page.locator('.cred__name', { hasText: exactly }) });
  }

  /** Opens the page through the account navigation. */
  async openFromNav() {
    await this.app.accountNav.getByRole('link', { name: 'Security', exact: true }).click();
    if (!this.app.js) await this.app.arrivedAt('/myaccount/security');
    await expect(this.page).toHaveURL(/\/myaccount\/security$/);
    await this.loaded();
  }

  async open() {
    await this.app.open('/myaccount/security');
    await this.loaded();
  }

  /** The page shows its heading and its sections (its data arrived). */
  async loaded() {
    await expect(this.app.heading('Security')).toBeVisible();
    await expect(this.passkeys).toBeVisible();
  }

  /**
   * Sets up an authenticator app: starts, reads the key shown, types the
   * current code computed from it, saves; the app is then listed.
   */
  async enrolTotp(name = 'Phone'): Promise<EnrolledApp> {
    await this.app.submit(this.totp.getByTestId('totp-start'));
    const enrol = this.totp.getByTestId('totp-enrol');
    await expect(enrol.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
    const secret = (await enrol.getByTestId('totp-secret').innerText()).trim();
    const uri = (await enrol.getByTestId('totp-uri').textContent())?.trim() ?? '';
    expect(new URL(uri).searchParams.get('secret'), 'the setup link carries the key shown').toBe(secret);
    await enrol.getByLabel('Name', { exact: true }).fill(name);
    const enrolStep = totpStep();
    await enrol.getByLabel('Code shown in the app').fill(totpCode(secret, enrolStep));
    await this.app.submit(enrol.getByTestId('totp-save'));
    await expect(this.app.status('Authenticator app added.')).toBeVisible();
    await expect(enrol).toHaveCount(0);
    await expect(this.credential(this.totp, name)).toBeVisible();
    return { name, secret, enrolStep };
  }

  /**
   * Generates backup codes (confirming when some exist: a dialog with
   * JavaScript, a required checkbox without) and returns the ten shown.
   */
  async generateBackupCodes(): Promise<string[]> {
    const list = this.backupCodes.getByTestId('backup-list');
    if (this.app.js) {
      await this.backupCodes.getByTestId('backup-generate').click();
      const confirm = this.backupCodes.getByTestId('backup-confirm');
      await expect(confirm.or(list)).toBeVisible();
      if (await confirm.isVisible()) await confirm.click();
    } else {
      const form = this.backupCodes.getByTestId('backup-form');
      const replace = form.getByLabel('Yes, replace my current codes', { exact: false });
      if (await replace.count()) await replace.check();
      await this.app.submit(form.getByTestId('backup-generate'));
    }
    await expect(list).toBeVisible();
    const codes = (await list.getByRole('listitem').allInnerTexts()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    return codes;
  }

  /** Adds a passkey called `name` (a virtual authenticator must be attached) and waits for it to be listed. */
  async addPasskey(name: string) {
    await this.passkeys.getByLabel('Name for a new passkey').fill(name);
    await this.passkeys.getByTestId('add-passkey').click();
    await expect(this.app.status(`Passkey “${name}” added.`)).toBeVisible();
    await expect(this.credential(this.passkeys, name)).toBeVisible();
  }
}

/** `/login/verify`: the second step of a sign-in. */
export class VerifyPage {
  constructor(readonly app: Latchkey) {}

  get page(): Page {
    return this.app.page;
  }
  get totpCode(): Locator {
    return this.page.getByRole('textbox', { name: '6-digit code' });
  }
  get backupCode(): Locator {
    // A textbox: the section around it is labelled "Backup code" too.
    return this.page.getByRole('textbox', { name: 'Backup code' });
  }

  async submitTotp(code: string) {
    await this.totpCode.fill(code);
    await this.app.submit(this.page.getByRole('button', { name: 'Verify', exact: true }));
  }

  async submitBackupCode(code: string) {
    await this.backupCode.fill(code);
    await this.app.submit(this.page.getByRole('button', { name: 'Use backup code', exact: true }));
  }
}

/**
 * A virtual passkey authenticator (CDP WebAuthn domain) for one page: a
 * platform authenticator holding discoverable credentials, with user
 * verification that always succeeds and no prompt to answer.
 */
export class VirtualAuthenticator {
  private constructor(
    readonly cdp: CDPSession,
    readonly id: string,
  ) {}

  static async attach(page: Page): Promise<VirtualAuthenticator> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return new VirtualAuthenticator(cdp, authenticatorId);
  }

  /** The credentials the authenticator holds. */
  async credentials() {
    const { credentials } = await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.id });
    return credentials;
  }
}

/**
 * Makes the sign-in page's passkey autofill request (conditional mediation)
 * wait as for a person who never picks a passkey from the username field's
 * suggestions: the request is held in the page and never reaches the
 * authenticator, until the app aborts it. (Chromium's virtual authenticator
 * would otherwise answer it at once, as if the person had picked the passkey.)
 * Counts, kept in sessionStorage across the page's documents:
 * `passkeyAutofillCounts(page)`.
 */
export async function holdPasskeyAutofill(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const credentials = navigator.credentials;
    if (!credentials) return;
    const bump = (key: string) => sessionStorage.setItem(key, String(Number(sessionStorage.getItem(key) ?? '0') + 1));
    const original = credentials.get.bind(credentials);
    credentials.get = (options?: CredentialRequestOptions) => {
      if (options?.mediation !== 'conditional') return original(options);
      bump('e2e-autofill-requested');
      return new Promise((_, reject) => {
        const signal = options.signal;
        signal?.addEventListener('abort', () => {
          bump('e2e-autofill-aborted');
          reject(signal.reason);
        });
      });
    };
  });
}

/** How many autofill requests the page made and aborted (see `holdPasskeyAutofill`). */
export async function passkeyAutofillCounts(page: Page): Promise<{ requested: number; aborted: number }> {
  return page.evaluate(() => ({
    requested: Number(sessionStorage.getItem('e2e-autofill-requested') ?? '0'),
    aborted: Number(sessionStorage.getItem('e2e-autofill-aborted') ?? '0'),
  }));
}

/**
 * Runs `fn` with a second, separate browser (its own cookies) on the same
 * server, JavaScript on and hydration tracked; closes it afterwards.
 */
export async function withSecondBrowser(
  browser: Browser,
  baseURL: string,
  fn: (other: Latchkey) => Promise<void>,
): Promise<void> {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: true });
  try {
    await installHydrationProbe(context);
    await fn(new Latchkey(await context.newPage(), true));
  } finally {
    await context.close();
  }
}
