// Signs a console page in as a stack user the way the console does (POST /api/v1/auth/session from
// the page's own origin, which sets the HttpOnly session cookie), then reloads it signed in.
import type { Page } from 'playwright-core';

export async function signIn(page: Page, user: { email: string; password: string }): Promise<void> {
  const status = await page.evaluate(async ({ email, password }) => {
    const res = await fetch('/api/v1/auth/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    return res.status;
  }, user);
  if (status !== 200) throw new Error(`POST /api/v1/auth/session answered ${status}`);
  await page.reload();
  await page.locator('.account-link', { hasText: user.email }).waitFor();
}
