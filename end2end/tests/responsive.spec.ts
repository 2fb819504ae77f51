import type { Page } from '@playwright/test';

import { expect, test } from '../support/fixtures';

test.use({ viewport: { width: 360, height: 740 } });

async function horizontalOverflow(page: Page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
  }));
}

test.describe('Small screens (360 x 740)', () => {
  // Checks: on a small phone the account pages keep the navigation links and the
  // Sign out button on screen, and nothing makes the page scroll sideways.
  test('navigation and Sign out stay visible without horizontal scroll', async ({ app, account, page }) => {
    await app.signIn(account);
    const headings: Record<string, string> = {
      '/myaccount': 'Overview',
      '/myaccount/personal-info': 'Personal info',
      '/myaccount/recovery': 'Account recovery',
    };
    for (const [path, heading] of Object.entries(headings)) {
      if (page.url().endsWith(path) === false) await app.open(path);
      await expect(app.heading(heading)).toBeVisible();
      for (const link of [app.navLink('Overview'), app.navLink('Personal info'), app.signOutButton]) {
        await expect(link).toBeVisible();
        await expect(link).toBeInViewport();
      }
      const { scrollWidth, bodyScrollWidth } = await horizontalOverflow(page);
      expect(scrollWidth, `document scroll width on ${path}`).toBeLessThanOrEqual(360);
      expect(bodyScrollWidth, `body scroll width on ${path}`).toBeLessThanOrEqual(360);
    }

    // The sign-in and forgot-password pages too.
    await app.signOut();
    await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeInViewport();
    expect((await horizontalOverflow(page)).scrollWidth).toBeLessThanOrEqual(360);
    await app.open('/forgot-password');
    await expect(page.getByRole('button', { name: 'Send reset link' })).toBeInViewport();
    expect((await horizontalOverflow(page)).scrollWidth).toBeLessThanOrEqual(360);
  });
});
