// The Alerts page and the firing notices, against the whole stack: an alert created in the form
// fires when the Binance price the replay server answers goes over its level (the real path: the
// worker's poll, the evaluation, NATS, the notifier, /ws), its notice shows the exact observed
// price, its status turns triggered and its firings list the firing; a test firing is marked as a
// test; pause, resume and delete (after a confirmation) work; the form checks its fields and shows
// the service's field errors.
import { DEFAULT_BINANCE_FIXTURES, readFixture } from '@ratewire/testkit/replay/index';
import type { StackUser } from '@ratewire/testkit/stack';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openConsole, type ConsolePage } from './browser.ts';
import { startConsoleStack, type ConsoleStack } from './console-stack.ts';
import { signIn } from './sign-in.ts';

let cs: ConsoleStack;
let user: StackUser;
let c: ConsolePage;

/** `55711.59` → `55,711.59`, as the console groups digits. */
const grouped = (v: string) => v.replace(/^(\d+)/, (int) => int.replace(/\B(?=(\d{3})+(?!\d))/g, ','));

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${cs.stack.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', ...init.headers },
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Scripts every all-symbol price answer: the recorded one, with `symbol` at `price`. */
function scriptPrice(symbol: string, price: string): void {
  const prices = JSON.parse(readFixture(DEFAULT_BINANCE_FIXTURES.tickerPrice).toString('utf8')) as {
    symbol: string;
    price: string;
  }[];
  cs.stack.replay.respond('/api/v3/ticker/price', {
    json: prices.map((p) => (p.symbol === symbol ? { symbol, price } : p)),
  });
}

async function createInForm(page: Page, fields: { symbol: string; condition: string; level: string }) {
  await page.getByLabel('Source').selectOption('binance');
  await page.getByLabel('Symbol', { exact: true }).fill(fields.symbol);
  await page.getByLabel('Condition').selectOption({ label: fields.condition });
  await page.getByLabel('Level').fill(fields.level);
  await page.getByRole('button', { name: 'Create alert' }).click();
}

const row = (page: Page, text: string) => page.locator('.alerts-table tbody tr', { hasText: text });

beforeAll(async () => {
  cs = await startConsoleStack();
  user = await cs.stack.user();
  c = await openConsole(cs.browser, `${cs.stack.url}/alerts`);
  await signIn(c.page, user);
}, 120_000);
afterAll(async () => {
  await c?.close();
  await cs?.close();
});

describe('the Alerts page', () => {
  it('signed out, points to the Account page and back', async () => {
    const guest = await openConsole(cs.browser, `${cs.stack.url}/alerts`);
    try {
      const link = guest.page.getByRole('link', { name: 'Log in or register' });
      await link.waitFor();
      expect(await link.getAttribute('href')).toBe('/account?next=/alerts');
      expect(await guest.page.getByRole('button', { name: 'Create alert' }).count()).toBe(0);
      expect(guest.problems).toEqual([]);
    } finally {
      await guest.close();
    }
  });

  it('checks the form before sending, and shows the service’s field errors', async () => {
    const { page } = c;
    await page.getByRole('heading', { name: 'Your alerts' }).waitFor();
    await page.getByRole('button', { name: 'Create alert' }).click();
    const symbol = page.getByLabel('Symbol', { exact: true });
    await expect.poll(() => symbol.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await symbol.getAttribute('aria-describedby')) ?? '';
    expect(describedBy).toContain('alert-symbol-error');
    expect(await page.locator('#alert-symbol-error').textContent()).toMatch(/symbol such as BTCUSDT/);
    expect(await page.locator('#alert-level-error').textContent()).toMatch(/level/i);
    // focus goes to the first field that is wrong
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('alert-symbol');

    await symbol.fill('BTCUSDT');
    await page.getByLabel('Level').fill('12,5');
    await page.getByRole('button', { name: 'Create alert' }).click();
    await expect.poll(() => page.locator('#alert-level-error').textContent()).toMatch(/decimal/);

    // the callback URL is asked for with the callback channel
    await page.getByLabel('Level').fill('100');
    await page.getByLabel('Callback', { exact: true }).check();
    await page.getByRole('button', { name: 'Create alert' }).click();
    await expect.poll(() => page.locator('#alert-callback-error').textContent()).toMatch(/URL/);
    await page.getByLabel('Callback', { exact: true }).uncheck();

    // a symbol that passes the contract but does not trade: the service's 422 lands on the field
    await symbol.fill('NOSUCHCOIN');
    await page.getByRole('button', { name: 'Create alert' }).click();
    await expect.poll(() => page.locator('#alert-symbol-error').textContent()).toMatch(/NOSUCHCOIN/);
    expect(await page.locator('.form-error').textContent()).toBeTruthy();
    const listed = await api<{ total: number }>('/api/v1/alerts');
    expect(listed.total).toBe(0);
    await symbol.fill('');
    // the browser logs the answers it was meant to get: the 422, and the 404 of the latest-price look-up
    expect(c.problems.every((p) => /status of (422|404)/.test(p))).toBe(true);
    c.problems.length = 0;
  });

  it('fires an alert created in the form when the Binance price goes over its level: notice, status, firings', async () => {
    const { page } = c;
    const current = await (await fetch(`${cs.stack.url}/api/v1/rates/binance/BTCUSDT`)).json();
    const int = BigInt(String((current as { price: string }).price).split('.')[0]!);
    const level = String(int + 1n); // just over the current price: the alert starts active
    const fired = `${int + 2n}.25000000`;

    await page.getByLabel('Symbol', { exact: true }).fill('BTCUSDT');
    // the latest price is shown with its source and time beside the level
    await expect.poll(() => page.locator('#alert-latest').textContent()).toMatch(/Binance spot price, updated/);
    await createInForm(page, { symbol: 'BTCUSDT', condition: 'Above a level', level });
    const name = `BTCUSDT above ${grouped(level)}`;
    await page
      .getByRole('status')
      .filter({ hasText: `Created ${name}.` })
      .waitFor();
    const created = row(page, name);
    await expect.poll(() => created.getAttribute('data-status')).toBe('active');
    const id = (await created.getAttribute('data-alert'))!;

    const scriptedAt = Date.now();
    scriptPrice('BTCUSDT', fired);
    const notice = page.locator('.toast', { hasText: `Alert: ${name}` });
    await notice.waitFor({ timeout: 30_000 });
    console.log(
      `alert notice shown ${Date.now() - scriptedAt} ms after the price was scripted (Binance polled every 1 s)`,
    );

    const events = await api<{ items: { observed: { value: string; at: string }; test: boolean }[] }>(
      `/api/v1/alerts/${id}/events`,
    );
    expect(events.items).toHaveLength(1);
    const observed = events.items[0]!.observed.value;
    expect(observed.replace(/\.?0+$/, '')).toBe(fired.replace(/\.?0+$/, ''));
    expect(await notice.textContent()).toContain(`Observed ${grouped(observed)}`);
    expect(await notice.getAttribute('role')).toBe('status');

    // the list follows the firing: triggered, with its firing listed
    await expect.poll(() => created.getAttribute('data-status'), { timeout: 15_000 }).toBe('triggered');
    expect(await created.locator('.alert-status').textContent()).toBe('Triggered');
    await page.getByRole('button', { name: `Firings of ${name}` }).click();
    const firings = page.locator('#alert-firings');
    await firings.getByRole('heading', { name: `Firings of ${name}` }).waitFor();
    const firing = firings.locator('tbody tr').first();
    await expect.poll(() => firing.locator('.observed-value').textContent()).toBe(grouped(observed));
    expect(await firing.getAttribute('data-test')).toBe('false');
    expect(await firing.locator('[data-channel="ws"]').count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('alert')).toBe(id);

    // a test firing: a notice marked as a test, and a firing marked Test
    await page.getByRole('button', { name: `Send a test firing of ${name}` }).click();
    const testNotice = page.locator('.toast', { hasText: `Test firing: ${name}` });
    await testNotice.waitFor({ timeout: 15_000 });
    await expect.poll(() => firings.locator('tbody tr[data-test="true"]').count(), { timeout: 15_000 }).toBe(1);
    expect(await firings.locator('tbody tr').first().getAttribute('data-test')).toBe('true');
    expect(await firings.locator('.badge-test').first().textContent()).toBe('Test');
    expect(c.problems).toEqual([]);
  }, 90_000);

  it('creates a CBR alert on a percentage move, with the rate’s effective date beside it', async () => {
    const { page } = c;
    await page.getByLabel('Source').selectOption('cbr');
    await page.getByLabel('Symbol', { exact: true }).fill('usd');
    await expect
      .poll(() => page.locator('#alert-latest').textContent())
      .toMatch(/CBR rubles per unit, effective \d{4}-\d\d-\d\d/);
    await page.getByLabel('Condition').selectOption('pct_change');
    // CBR publishes once a day: a 1-hour window is refused on its field, before anything is sent
    await page.getByLabel('Window').selectOption('1h');
    await page.getByLabel('Threshold (%)').fill('2.5');
    await page.getByRole('button', { name: 'Create alert' }).click();
    await expect.poll(() => page.locator('#alert-window-error').textContent()).toMatch(/24h/);
    expect(await page.getByLabel('Window').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Window').selectOption('24h');
    await page.getByLabel('Direction').selectOption('up');
    await page.getByRole('button', { name: 'Create alert' }).click();
    const name = 'USD changes by ≥ 2.5% up in 24h';
    await page
      .getByRole('status')
      .filter({ hasText: `Created ${name}.` })
      .waitFor();
    const r = row(page, name);
    await expect.poll(() => r.getAttribute('data-status')).toBe('active');
    expect(await r.locator('.alert-source').textContent()).toContain('CBR');
    const id = (await r.getAttribute('data-alert'))!;
    const stored = await api<{ source: string; symbol: string; condition: unknown }>(`/api/v1/alerts/${id}`);
    expect(stored).toMatchObject({
      source: 'cbr',
      symbol: 'USD',
      condition: { type: 'pct_change', window: '24h', threshold_pct: '2.5', direction: 'up' },
    });
    await page.getByLabel('Source').selectOption('binance');
    await page.getByLabel('Condition').selectOption('above');
    expect(c.problems).toEqual([]);
  });

  it('shows a firing’s notice on any page while signed in', async () => {
    const other = await openConsole(cs.browser, `${cs.stack.url}/`);
    try {
      await signIn(other.page, user);
      await other.page.locator('.connection[data-state="live"]').waitFor();
      const [alert] = (
        await api<{ items: { id: string; symbol: string }[] }>('/api/v1/alerts?limit=1000')
      ).items.filter((a) => a.symbol === 'BTCUSDT');
      // the channel is subscribed once the socket is live; a firing then reaches this page
      await expect
        .poll(
          async () => {
            await api(`/api/v1/alerts/${alert!.id}/test`, { method: 'POST' });
            return other.page.locator('.toast', { hasText: 'Test firing: BTCUSDT' }).count();
          },
          { timeout: 15_000, interval: 1000 },
        )
        .toBeGreaterThan(0);
      expect(await other.page.locator('main h1').textContent()).toBe('Markets');
      expect(other.problems).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('pauses, resumes and (after a confirmation) deletes an alert', async () => {
    const { page } = c;
    await createInForm(page, { symbol: 'ETHUSDT', condition: 'Below a level', level: '10' });
    const name = 'ETHUSDT below 10';
    const r = row(page, name);
    await expect.poll(() => r.getAttribute('data-status')).toBe('active');
    const id = (await r.getAttribute('data-alert'))!;

    await page.getByRole('button', { name: `Pause ${name}` }).click();
    await expect.poll(() => r.getAttribute('data-status')).toBe('paused');
    await page
      .getByRole('status')
      .filter({ hasText: `Paused ${name}.` })
      .waitFor();
    expect((await api<{ status: string }>(`/api/v1/alerts/${id}`)).status).toBe('paused');

    await page.getByRole('button', { name: `Resume ${name}` }).click();
    await expect.poll(() => r.getAttribute('data-status')).toBe('active');
    expect((await api<{ status: string }>(`/api/v1/alerts/${id}`)).status).toBe('active');

    // Cancel keeps it, and focus returns to its Delete button
    const del = page.getByRole('button', { name: `Delete ${name}` });
    await del.click();
    const dialog = page.getByRole('dialog', { name: 'Delete this alert?' });
    await dialog.waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await r.count()).toBe(1);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('data-alert')))
      .toBe(id);

    await del.click();
    await dialog.getByRole('button', { name: 'Delete alert' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Deleted ${name}.` })
      .waitFor();
    await expect.poll(() => r.count()).toBe(0);
    const gone = await fetch(`${cs.stack.url}/api/v1/alerts/${id}`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(gone.status).toBe(404);
    expect(c.problems).toEqual([]);
  });
});
