// The console as the api serves it: the shell, the status badge, the headers of its files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openConsole } from './browser.ts';
import { startConsoleStack, type ConsoleStack } from './console-stack.ts';
import { signIn } from './sign-in.ts';

let cs: ConsoleStack;
beforeAll(async () => {
  cs = await startConsoleStack();
}, 120_000);
afterAll(async () => {
  await cs?.close();
});

describe('the console at /', () => {
  it('is served under a strict CSP with no inline script, and its assets are hashed and immutable', async () => {
    const res = await fetch(`${cs.stack.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = /<script[^>]+src="(\/assets\/index-[\w-]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${cs.stack.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-encoding')).toBe('br');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('answers every page path with the app, and unknown assets with 404', async () => {
    for (const path of ['/charts', '/convert', '/jobs', '/alerts', '/account']) {
      const res = await fetch(`${cs.stack.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('<div id="app">');
    }
    expect((await fetch(`${cs.stack.url}/assets/nope-123.js`)).status).toBe(404);
    expect((await fetch(`${cs.stack.url}/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('shows the connection live and both feeds in the header badge, without console errors', async () => {
    const c = await openConsole(cs.browser, cs.stack.url);
    try {
      await c.page.locator('.connection[data-state="live"]').waitFor();
      await expect.poll(() => c.page.locator('.feed[data-feed="cbr"]').getAttribute('data-mode')).toBe('polling');
      await expect.poll(() => c.page.locator('.feed[data-feed="binance"]').getAttribute('data-mode')).toBe('polling');
      expect(await c.page.title()).toContain('Ratewire');
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('signs the console out when the service says its session ended elsewhere (a 401 on any request)', async () => {
    const user = await cs.stack.user();
    const c = await openConsole(cs.browser, cs.stack.url);
    try {
      await signIn(c.page, user);
      // every session of the account ends, from another client
      const out = await fetch(`${cs.stack.url}/api/v1/auth/logout-all`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(out.status).toBe(204);
      // the next private read (the jobs list) is answered 401: the header says so without a reload
      await c.page.getByRole('link', { name: 'Jobs' }).click();
      await c.page.locator('.account-link', { hasText: 'Log in' }).waitFor();
      expect(c.problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
