// OpenID Connect: a small relying party (npm's openid-client, unmodified,
// started by the test on loopback) signs a person in through Latchkey. An
// administrator registers it in the console's Protocol tab; the person signs
// in, allows it on the consent page, and the relying party greets them with
// their name from userinfo; the person revokes its access in My Account and
// the relying party's next userinfo call is refused. Registering is
// instance-wide, so each test starts a server of its own.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import * as oidc from 'openid-client';

import { nextUnusedCode, totpStep, enrolTotpOverHttp, type Latchkey } from '../support/app';
import { ownServer, signInWithTwoFactors } from '../support/console';
import { expect, test, type RunningServer } from '../support/fixtures';
import { createAccount } from '../support/server';

/** A relying party on 127.0.0.1: /login starts a sign-in, /callback ends it, /me calls userinfo again. */
class RelyingParty {
  private config?: oidc.Configuration;
  private pending = new Map<string, { verifier: string; nonce: string }>();
  private accessToken = '';
  private subject = '';
  private constructor(private readonly http: Server, readonly url: string) {}

  static async start(): Promise<RelyingParty> {
    let rp: RelyingParty | undefined;
    const http = createServer((req, res) => {
      rp!.handle(req.url ?? '/').then(
        ([status, headers, body]) => res.writeHead(status, headers).end(body),
        (e) => res.writeHead(500, { 'content-type': 'text/html' }).end(`<p id="error">${String(e)}</p>`),
      );
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    rp = new RelyingParty(http, `http://127.0.0.1:${(http.address() as AddressInfo).port}`);
    return rp;
  }

  get redirectUri(): string {
    return `${this.url}/callback`;
  }

  /** Discovers the provider (plain http on loopback is allowed for the test only). */
  async configure(issuer: string, clientId: string, secret: string) {
    this.config = await oidc.discovery(new URL(issuer), clientId, secret, undefined, { execute: [oidc.allowInsecureRequests] });
  }

  private async handle(path: string): Promise<[number, Record<string, string>, string]> {
    const html = { 'content-type': 'text/html; charset=utf-8' };
    const config = this.config!;
    const url = new URL(path, this.url);
    if (url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      this.pending.set(state, { verifier, nonce });
      const to = oidc.buildAuthorizationUrl(config, {
        redirect_uri: this.redirectUri,
        scope: 'openid profile email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return [302, { location: to.href }, ''];
    }
    if (url.pathname === '/callback') {
      const state = url.searchParams.get('state') ?? '';
      const checks = this.pending.get(state);
      if (!checks) return [400, html, `<p id="error">unknown state; ${url.searchParams.get('error') ?? ''}</p>`];
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: checks.verifier,
        expectedState: state,
        expectedNonce: checks.nonce,
      });
      const claims = tokens.claims()!;
      this.accessToken = tokens.access_token;
      this.subject = claims.sub;
      const info = await oidc.fetchUserInfo(config, this.accessToken, this.subject);
      return [200, html, `<h1 id="hello">Hello, ${info.name ?? info.preferred_username}</h1><p id="amr">${(claims.amr as string[]).join(' ')}</p>`];
    }
    if (url.pathname === '/me') {
      try {
        const info = await oidc.fetchUserInfo(config, this.accessToken, this.subject);
        return [200, html, `<p id="me">${info.preferred_username}</p>`];
      } catch (e) {
        return [200, html, `<p id="me">refused: ${(e as { status?: number }).status ?? e}</p>`];
      }
    }
    return [404, html, 'not found'];
  }

  async stop() {
    await new Promise((resolve) => this.http.close(resolve));
  }
}

/** The admin registers `name` with OpenID Connect for `rp` in the console; returns its client id and secret. */
async function registerInConsole(admin: Latchkey, server: RunningServer, name: string, rp: RelyingParty) {
  const created = await admin.page.request.post('/api/admin/application_create', {
    headers: { Origin: server.url },
    form: { 'form[name]': name, 'form[access_url]': `${rp.url}/`, 'form[discoverable]': 'on' },
  });
  expect(created.status(), await created.text()).toBe(200);
  const handle = (await created.json()).app.id as string;
  await admin.open(`/admin/applications/${handle}?tab=protocol`);
  const panel = admin.page.getByTestId('panel-protocol');
  await panel.getByLabel('Redirect URIs', { exact: true }).fill(rp.redirectUri);
  await panel.getByTestId('save-client').click();
  await expect(panel.getByTestId('secret-shown')).toBeVisible();
  const secret = (await panel.getByTestId('client-secret').textContent())!.trim();
  const clientId = (await panel.getByTestId('client-id').textContent())!.trim();
  await expect(panel.getByTestId('discovery-url')).toHaveText(`${server.url}/.well-known/openid-configuration`);
  await panel.getByTestId('secret-saved').click();
  await expect(panel.getByTestId('secret-shown')).toHaveCount(0);
  return { handle, clientId, secret };
}

/** The admin saves the login flow of the application `handle`: each step's options, asked every time. */
async function saveFlow(admin: Latchkey, server: RunningServer, handle: string, steps: string[][]) {
  const headers = { Origin: server.url };
  const flow = await (await admin.page.request.post('/api/admin/login_flow', { headers, form: { app: handle } })).json();
  const definition = JSON.stringify({ steps: steps.map((options) => ({ options })) });
  const saved = await admin.page.request.post('/api/admin/login_flow_update', {
    headers,
    form: { app: handle, base_version: String(flow.version), definition },
  });
  expect(saved.status(), await saved.text()).toBe(200);
}

test.describe('OpenID Connect', () => {
  test('a relying party signs a person in; the person revokes its access in My Account', async ({ browser, js }) => {
    const rp = await RelyingParty.start();
    try {
      await ownServer(browser, async ({ server, newBrowser }) => {
        const admin = await newBrowser();
        await signInWithTwoFactors(admin, createAccount(server, { prefix: 'root', admin: true }));
        const { clientId, secret } = await registerInConsole(admin, server, 'Wiki', rp);
        await rp.configure(server.url, clientId, secret);

        const account = createAccount(server, { prefix: 'ann' });
        const person = await newBrowser(js);
        await person.page.goto(`${rp.url}/login`);
        await person.arrivedAt('/login', /next=/);
        await expect(person.page.getByTestId('signing-in-to')).toHaveText('to continue to Wiki');
        await person.submitSignIn(account.username, account.password);
        await person.arrivedAt('/oauth2/continue');
        await expect(person.page.getByTestId('app-name')).toHaveText('Wiki');
        await expect(person.page.getByTestId('scopes')).toContainText('Your email address');
        await person.page.getByTestId('allow').click();
        await expect(person.page.locator('#hello')).toHaveText(`Hello, ${account.username}`);

        await person.open('/myaccount/consents');
        const card = person.page.getByTestId('consent-wiki');
        await expect(card).toContainText('Access granted on');
        await expect(card).toContainText('Your email address');
        await card.getByTestId('revoke').click();
        await person.submit(card.getByTestId('confirm-revoke'));
        await expect(person.page.getByTestId('no-consents')).toBeVisible();

        await person.page.goto(`${rp.url}/me`);
        await expect(person.page.locator('#me')).toHaveText('refused: 401');
      });
    } finally {
      await rp.stop();
    }
  });

  test("an application's flow asks for an authenticator code the session has not shown (step-up)", async ({ browser, js }) => {
    const rp = await RelyingParty.start();
    try {
      await ownServer(browser, async ({ server, newBrowser }) => {
        const admin = await newBrowser();
        await signInWithTwoFactors(admin, createAccount(server, { prefix: 'root', admin: true }));
        const { handle, clientId, secret } = await registerInConsole(admin, server, 'Payroll', rp);
        await rp.configure(server.url, clientId, secret);
        await saveFlow(admin, server, handle, [['password'], ['totp']]);

        // Signed in to My Account with a password only; then an authenticator app is added.
        const account = createAccount(server, { prefix: 'bo' });
        const person = await newBrowser(js);
        await person.signIn(account);
        const totp = { name: 'Script', secret: await enrolTotpOverHttp(server.url, account), enrolStep: totpStep() };

        await person.page.goto(`${rp.url}/login`);
        await person.arrivedAt('/oauth2/continue');
        await expect(person.page.getByTestId('step-up')).toContainText('another sign-in step');
        await person.page.getByLabel('Code from your authenticator app').fill(nextUnusedCode(totp));
        await person.submit(person.page.getByRole('button', { name: 'Confirm', exact: true }));
        await expect(person.page.getByTestId('allow')).toBeVisible();
        await person.page.getByTestId('allow').click();
        await expect(person.page.locator('#hello')).toHaveText(`Hello, ${account.username}`);
        await expect(person.page.locator('#amr')).toContainText('otp');
      });
    } finally {
      await rp.stop();
    }
  });

  // Threat: an application's weaker flow (a password alone) as a way into
  // My Account, whose own flow asks this person for an authenticator code.
  test("signing in through an application runs its own flow; My Account then asks for the missing step", async ({ browser, js }) => {
    const rp = await RelyingParty.start();
    try {
      await ownServer(browser, async ({ server, newBrowser }) => {
        const admin = await newBrowser();
        await signInWithTwoFactors(admin, createAccount(server, { prefix: 'root', admin: true }));
        const { handle, clientId, secret } = await registerInConsole(admin, server, 'Docs', rp);
        await rp.configure(server.url, clientId, secret);
        await saveFlow(admin, server, handle, [['password', 'passkey']]);

        const account = createAccount(server, { prefix: 'cy' });
        const totp = { name: 'Script', secret: await enrolTotpOverHttp(server.url, account), enrolStep: totpStep() };
        const person = await newBrowser(js);
        await person.page.goto(`${rp.url}/login`);
        await person.arrivedAt('/login', /next=/);
        await person.submitSignIn(account.username, account.password);
        // No code asked: the application's flow is a password alone.
        await person.arrivedAt('/oauth2/continue');
        await person.page.getByTestId('allow').click();
        await expect(person.page.locator('#hello')).toHaveText(`Hello, ${account.username}`);
        await expect(person.page.locator('#amr')).toHaveText('pwd');

        await person.open('/myaccount/security');
        await person.arrivedAt('/login/step-up', /next=\/myaccount\/security/);
        await expect(person.page.getByTestId('step-up')).toContainText('fewer sign-in steps than My Account');
        await expect(person.page.getByLabel('Your password')).toHaveCount(0);
        await person.page.getByLabel('Code from your authenticator app').fill(nextUnusedCode(totp));
        await person.submit(person.page.getByRole('button', { name: 'Confirm', exact: true }));
        if (!js) await person.page.getByTestId('continue').click();
        await person.arrivedAt('/myaccount/security');
        await expect(person.heading('Security')).toBeVisible();
      });
    } finally {
      await rp.stop();
    }
  });
});
