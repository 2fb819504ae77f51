import { MESSAGES } from '../support/app';
import { expect, test } from '../support/fixtures';
import { startFreshServerWithSetupLink, uniqueName, type RunningServer } from '../support/server';

test.describe('First administrator', () => {
  let fresh: RunningServer | undefined;
  let setupUrl = '';

  // Each test gets its own brand-new server with an empty database: the setup link
  // is what such a server prints in its log at start.
  test.beforeEach(async () => {
    ({ server: fresh, setupUrl } = await startFreshServerWithSetupLink());
  });
  test.afterEach(async () => {
    await fresh?.stop();
    fresh = undefined;
  });

  // Checks: on a fresh server, a made-up token is refused; the logged setup link
  // creates the first administrator and signs them in; the link then no longer works,
  // neither in the browser nor replayed straight to the API.
  // Threat: anyone who reaches a new instance (or finds an old link in a log)
  // making themselves administrator.
  test('the setup link creates the first administrator, once', async ({ app, page, request }) => {
    const server = fresh!;
    expect(setupUrl).toMatch(new RegExp(`^${server.url}/setup\\?token=[A-Za-z0-9_-]{43}$`));
    const token = new URL(setupUrl).searchParams.get('token')!;

    const forged = token.startsWith('A') ? `B${token.slice(1)}` : `A${token.slice(1)}`;
    await app.open(`${server.url}/setup?token=${forged}`);
    await expect(page.getByRole('alert')).toContainText(MESSAGES.invalidSetupLink);
    await expect(page.locator('#setup-username')).toHaveCount(0);

    await app.open(setupUrl);
    await expect(app.heading('Create the first administrator')).toBeVisible();
    const username = uniqueName('admin');
    const password = 'first admin password';
    await page.locator('#setup-username').fill(username);
    await page.locator('#setup-email').fill(`${username}@example.com`);
    await page.locator('#setup-password').fill(password);
    await page.locator('#setup-confirm').fill(password);
    await app.submit(page.getByRole('button', { name: 'Create administrator' }));
    await app.arrivedAt('/myaccount');
    expect(new URL(page.url()).origin).toBe(server.url);
    await app.expectSignedInAs(username);
    await expect(page.getByText(`@${username} · Administrator`)).toBeVisible();
    await expect(page.getByTestId('overview-email')).toHaveText(`${username}@example.com`);

    // Second use of the same link: in the browser...
    await app.open(setupUrl);
    await expect(page.getByText(MESSAGES.alreadySetUp)).toBeVisible();
    await expect(page.locator('#setup-username')).toHaveCount(0);
    // ...and replayed straight to the API with a new name (same origin, so only the token decides).
    const replay = await request.post(`${server.url}/api/auth/create_first_admin`, {
      headers: { Origin: server.url, Accept: 'application/json' },
      form: { token, username: uniqueName('intruder'), email: 'intruder@example.com', password, confirm: password },
      maxRedirects: 0,
    });
    expect(replay.status()).toBe(409);
    expect(await replay.text()).toContain('already has an administrator');
  });
});
