// The Charts and Convert pages against the whole service: the CBR chart draws the API's points and
// regroups by week, the visible-range CSV export equals the API's own CSV of that range byte for
// byte, Binance candles draw from the history the worker stored from its polls, and a conversion
// shows exactly what the API answers; invalid input is refused before anything is sent. Neither page
// logs an error or a CSP violation, and the chart library stays out of the first load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DEFAULT_BINANCE_FIXTURES, spliceBytes } from '@ratewire/testkit/replay/index';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { groupDigits } from '../src/core/format.ts';
import { seriousViolations } from './axe.ts';
import { loadCbrDays, NEWEST_CBR, scriptCbrHistory, weekdays } from './cbr-history.ts';
import { openConsole, type ConsolePage } from './browser.ts';
import { startConsoleStack, type ConsoleStack } from './console-stack.ts';

/** With CHARTS_SCREENSHOTS set, a picture of the page in /tmp for looking at by hand. */
const DIST = fileURLToPath(new URL('../dist', import.meta.url));

const NEWEST = NEWEST_CBR;
const SEEDED = weekdays('2024-07-15', '2024-11-08');

let cs: ConsoleStack;
let api: string;
/** While set, BTCUSDT keeps the fixture's price: the stored history stops changing. */
let priceHeld = false;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${api}${path}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  cs = await startConsoleStack();
  api = cs.stack.url;
  const replay = cs.stack.replay;
  scriptCbrHistory(replay, SEEDED);
  // BTCUSDT moves on every poll (until a test holds it), so the worker keeps a history of changes
  let polls = 0;
  replay.respond('/api/v3/ticker/price', (req) =>
    req.query.has('symbol') || req.query.has('symbols') || priceHeld
      ? { useDefault: true }
      : {
          fixture: DEFAULT_BINANCE_FIXTURES.tickerPrice,
          transform: (body) =>
            spliceBytes(
              body,
              '"price": "55711.59000000"',
              `"price": "${55711 + (polls % 17) * 3}.${String(polls++ % 100).padStart(2, '0')}000000"`,
            ),
        },
  );
  // the api asks the worker for each day it does not have
  await loadCbrDays(api, SEEDED);
}, 180_000);
afterAll(async () => {
  await cs?.close();
});

/** The cells of a data table's body rows. */
async function tableRows(page: Page, series: string): Promise<string[][]> {
  return page
    .locator(`table[data-series="${series}"] tbody tr`)
    .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent ?? '')));
}

/** Opens a data table's <details>. */
async function openTable(page: Page, series: string): Promise<void> {
  const details = page.locator('details.chart-data', { has: page.locator(`table[data-series="${series}"]`) });
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
}

type DayPoint = { date: string; value: string; nominal: number; unit_rate: string };
type WeekPoint = Record<'period_start' | 'period_end' | 'open' | 'high' | 'low' | 'close' | 'avg', string> & {
  count: number;
};

describe('the Charts page', { timeout: 90_000 }, () => {
  let c: ConsolePage;
  afterAll(async () => {
    await c?.close();
  });

  it('draws the CBR series of the default range, lists the API points, and regroups by week', async () => {
    const started = Date.now();
    c = await openConsole(cs.browser, `${api}/charts`);
    const { page } = c;
    await page.locator('.plot-canvas canvas').first().waitFor();
    console.log(`charts: CBR chart drawn ${Date.now() - started} ms after navigation`);
    const series = await page.evaluate(
      () =>
        performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === '/api/v1/rates/cbr/series')
          ?.duration,
    );
    console.log(`charts: the series answered in ${Math.round(series ?? -1)} ms`);
    // the default range ends on the newest publication and reaches back three months
    expect(await page.getByLabel('To', { exact: true }).inputValue()).toBe(NEWEST);
    const from = await page.getByLabel('From', { exact: true }).inputValue();
    expect(from).toBe('2024-08-10');

    const days = await getJson<DayPoint[]>(`/api/v1/rates/cbr/series?symbol=USD&from=${from}&to=${NEWEST}`);
    expect(days.length).toBeGreaterThan(50);
    await openTable(page, 'USD in RUB');
    expect(await tableRows(page, 'USD in RUB')).toEqual(
      days.map((p) => [p.date, p.value, String(p.nominal), p.unit_rate]),
    );
    await expect.poll(() => page.locator('.chart-view').getAttribute('data-visible')).toBe(String(days.length));
    await expect(page.locator('.source').first().textContent()).resolves.toContain(
      `effective dates ${days[0]!.date} to ${NEWEST}`,
    );

    await page.getByLabel('Grouping').selectOption('week');
    await expect.poll(() => new URL(page.url()).searchParams.get('group')).toBe('week');
    const weeks = await getJson<WeekPoint[]>(
      `/api/v1/rates/cbr/series?symbol=USD&from=${from}&to=${NEWEST}&group=week`,
    );
    expect(weeks.length).toBeLessThan(days.length);
    await expect.poll(async () => (await tableRows(page, 'USD in RUB')).length, { timeout: 10_000 }).toBe(weeks.length);
    await openTable(page, 'USD in RUB');
    expect(await tableRows(page, 'USD in RUB')).toEqual(
      weeks.map((p) => [p.period_start, p.period_end, p.open, p.high, p.low, p.close, p.avg, String(p.count)]),
    );
    await page.locator('.plot-canvas canvas').first().waitFor();
    expect(c.problems).toEqual([]);
  });

  it('exports the zoomed range as CSV equal to the API’s own CSV of those days', async () => {
    const { page } = c;
    await page.getByLabel('Grouping').selectOption('day');
    await expect.poll(() => page.locator('.chart-view').textContent()).toMatch(/^Showing all \d+ points/);
    const total = Number(await page.locator('.chart-view').getAttribute('data-visible'));
    // drag across the middle of the plot
    const box = (await page.locator('.plot-canvas .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.65, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => page.locator('.chart-view').textContent()).toMatch(/^Zoomed/);
    const view = page.locator('.chart-view');
    const visible = Number(await view.getAttribute('data-visible'));
    expect(visible).toBeGreaterThan(0);
    expect(visible).toBeLessThan(total);
    const day = (x: string | null) => new Date(Number(x) * 1000).toISOString().slice(0, 10);
    const first = day(await view.getAttribute('data-from'));
    const last = day(await view.getAttribute('data-to'));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export visible USD in RUB as CSV' }).click(),
    ]);
    const file = readFileSync(await download.path(), 'utf8');
    const res = await fetch(`${api}/api/v1/rates/cbr/series?symbol=USD&from=${first}&to=${last}&format=csv`);
    const expected = await res.text();
    expect(file).toBe(expected);
    expect(file.trim().split('\r\n')).toHaveLength(visible + 1);
    expect(download.suggestedFilename()).toMatch(/^cbr-USD-.*-visible\.csv$/);

    // the API's CSV of the whole range is linked
    const href = await page.getByRole('link', { name: /the API's CSV of the whole range/ }).getAttribute('href');
    const whole = await fetch(new URL(href!, api));
    expect(whole.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await whole.text()).trim().split('\r\n')).toHaveLength(total + 1);

    // "Reset zoom" shows every point again
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    await expect.poll(() => view.getAttribute('data-visible')).toBe(String(total));
    expect(c.problems).toEqual([]);
  });

  it('draws a second currency on its own scale, or the first expressed in it', async () => {
    const { page } = c;
    await page.getByLabel('Second currency', { exact: true }).selectOption('EUR');
    await page.locator('table[data-series="EUR in RUB"]').waitFor({ state: 'attached' });
    await page.getByLabel('expressed in (cross rate)').check();
    await page.locator('table[data-series="USD in EUR"]').waitFor({ state: 'attached' });
    const url = new URL(page.url());
    expect(url.searchParams.get('vs')).toBe('EUR');
    expect(url.searchParams.get('as')).toBe('base');
    const from = url.searchParams.get('from') ?? (await page.getByLabel('From', { exact: true }).inputValue());
    const cross = await getJson<DayPoint[]>(`/api/v1/rates/cbr/series?symbol=USD&from=${from}&to=${NEWEST}&base=EUR`);
    expect(await tableRows(page, 'USD in EUR')).toEqual(
      cross.map((p) => [p.date, p.value, String(p.nominal), p.unit_rate]),
    );
    await openTable(page, 'USD in EUR');
    expect(await seriousViolations(page)).toEqual([]);
    expect(c.problems).toEqual([]);
  });

  it('works from the keyboard: a quick range and the zoom buttons', async () => {
    const { page } = c;
    await page.getByLabel('Second currency', { exact: true }).selectOption('');
    const oneMonth = page.getByRole('button', { name: /^1M/ });
    await oneMonth.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).toBe('2024-10-10');
    expect(await oneMonth.getAttribute('aria-pressed')).toBe('true');
    await page.locator('.plot-canvas canvas').first().waitFor();
    await expect.poll(() => page.locator('.chart-view').textContent()).toMatch(/^Showing all/);
    await page.getByRole('button', { name: 'Zoom in' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.chart-view').textContent()).toMatch(/^Zoomed/);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Reset zoom');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.chart-view').textContent()).toMatch(/^Showing all/);
    expect(c.problems).toEqual([]);
  });

  it('draws Binance candles for BTCUSDT from the stored history', async () => {
    // the worker polls every second and the price moves each time
    await expect
      .poll(async () => (await getJson<unknown[]>('/api/v1/rates/binance/BTCUSDT/history?interval=1m')).length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
    // hold the price, then wait for the polls in flight to be stored: the page and this test then read
    // the same history
    priceHeld = true;
    let previous = '';
    await expect
      .poll(
        async () => {
          const now = JSON.stringify(await getJson<unknown[]>('/api/v1/rates/binance/BTCUSDT/history?interval=1m'));
          const same = now === previous;
          previous = now;
          return same;
        },
        { timeout: 30_000, interval: 1500 },
      )
      .toBe(true);
    const b = await openConsole(cs.browser, `${api}/charts?mode=binance&pair=BTCUSDT&interval=1m&span=1h`);
    try {
      const { page } = b;
      await page.locator('.plot-canvas canvas').first().waitFor();
      await openTable(page, 'BTCUSDT');
      const shown = await tableRows(page, 'BTCUSDT');
      expect(shown.length).toBeGreaterThan(0);
      // the table is what the API answers for the page's own request (its CSV link names it)
      const href = await page.getByRole('link', { name: /the API's CSV of the whole range/ }).getAttribute('href');
      const asked = new URL(href!, api);
      asked.searchParams.set('format', 'json');
      const rows = await getJson<
        { t: string; open: string; high: string; low: string; close: string; count: number }[]
      >(asked.pathname + asked.search);
      expect(shown).toEqual(rows.map((r) => [r.t, r.open, r.high, r.low, r.close, String(r.count)]));
      const source = await page.locator('.source').textContent();
      expect(source).toContain('Binance spot prices');
      expect(source).toMatch(/\d+ buckets? of 1m/);

      // a symbol that is not one is refused before anything is sent
      const before = await page.evaluate(() => performance.getEntriesByType('resource').length);
      await page.getByLabel('Symbol').fill('not a symbol!');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect(page.locator('#binance-pair-error').textContent()).resolves.toContain('Binance symbol');
      expect(await page.getByLabel('Symbol').getAttribute('aria-invalid')).toBe('true');
      expect(await page.evaluate(() => performance.getEntriesByType('resource').length)).toBe(before);
      expect(await seriousViolations(page)).toEqual([]);
      expect(b.problems).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('fits a 375 px screen', async () => {
    const n = await openConsole(cs.browser, `${api}/charts`, { viewport: { width: 375, height: 800 } });
    try {
      await n.page.locator('.plot-canvas canvas').first().waitFor();
      expect(await n.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      expect(n.problems).toEqual([]);
    } finally {
      await n.close();
    }
  });

  it('is not part of the first load: uPlot’s chunk loads only when Charts opens', async () => {
    const manifest = JSON.parse(readFileSync(join(DIST, '.vite', 'manifest.json'), 'utf8')) as Record<
      string,
      { file: string; isEntry?: boolean; imports?: string[] }
    >;
    const chunk = manifest['src/pages/charts/charts.page.tsx']!.file;
    expect(readFileSync(join(DIST, chunk), 'utf8')).toContain('uplot');
    const home = await openConsole(cs.browser, `${api}/`);
    try {
      const { page } = home;
      await page.locator('.connection[data-state="live"]').waitFor();
      const loaded = () =>
        page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
      expect(await loaded()).not.toContain(`/${chunk}`);
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Charts' }).click();
      await page.locator('.plot-canvas canvas').first().waitFor();
      expect(await loaded()).toContain(`/${chunk}`);
      expect(home.problems).toEqual([]);
    } finally {
      await home.close();
    }
  });
});

describe('the Convert page', { timeout: 90_000 }, () => {
  it('shows exactly what GET /api/v1/convert answers: result, rate, effective date', async () => {
    const c = await openConsole(cs.browser, `${api}/convert`);
    try {
      const { page } = c;
      const converts: string[] = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/convert') converts.push(r.url());
      });
      await page.locator('#convert-from option[value="USD"]').waitFor({ state: 'attached' });
      await page.getByLabel('Amount').fill('100');
      await page.getByLabel('From').selectOption('USD');
      await page.getByLabel('To', { exact: true }).selectOption('RUB');
      await page.getByRole('button', { name: 'Convert' }).click();
      await page.locator('[data-testid="convert-result"]').waitFor();
      const answer = await getJson<{ amount: string; result: string; rate: string; date: string }>(
        '/api/v1/convert?amount=100&from=USD&to=RUB',
      );
      const result = page.locator('[data-testid="convert-result"]');
      expect(await result.locator('[data-field="result"]').textContent()).toBe(groupDigits(answer.result));
      expect(await result.locator('[data-field="rate"]').textContent()).toBe(answer.rate);
      expect(await result.locator('[data-field="date"]').textContent()).toBe(answer.date);
      expect(await result.locator('.source').textContent()).toContain(`effective ${answer.date}`);
      expect(new URL(page.url()).search).toBe('?amount=100&from=USD&to=RUB');
      expect(converts).toHaveLength(1);

      // swapped, it answers the other way round
      await page.getByRole('button', { name: 'Swap the currencies' }).click();
      expect(await page.getByLabel('From', { exact: true }).inputValue()).toBe('RUB');
      await page.getByRole('button', { name: 'Convert' }).click();
      const back = await getJson<{ result: string; rate: string }>('/api/v1/convert?amount=100&from=RUB&to=USD');
      await expect.poll(() => result.locator('[data-field="rate"]').textContent()).toBe(back.rate);
      expect(await result.locator('[data-field="result"]').textContent()).toBe(groupDigits(back.result));

      // an amount that is not a number is refused before anything is sent
      const sent = converts.length;
      await page.getByLabel('Amount').fill('12,5 dollars');
      await page.getByRole('button', { name: 'Convert' }).click();
      const error = page.locator('#convert-amount-error');
      await error.waitFor();
      expect(await error.getAttribute('role')).toBe('alert');
      expect(await error.textContent()).toBe('Use a point for the decimals and no thousands separators, e.g. 1500.75');
      expect(await page.getByLabel('Amount').getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByLabel('Amount').getAttribute('aria-describedby')).toContain('convert-amount-error');
      await page.waitForTimeout(300);
      expect(converts).toHaveLength(sent);
      expect(await seriousViolations(page)).toEqual([]);
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('shows the API’s refusals inline: a day before CBR’s data, an unknown currency in a link', async () => {
    const c = await openConsole(cs.browser, `${api}/convert?amount=5&from=USD&to=RUB&date=1990-01-01`);
    try {
      const { page } = c;
      const dateError = page.locator('#convert-date-error');
      await dateError.waitFor();
      const res = await fetch(`${api}/api/v1/convert?amount=5&from=USD&to=RUB&date=1990-01-01`);
      expect(res.status).toBe(404);
      const problem = (await res.json()) as { detail: string };
      expect(await dateError.textContent()).toBe(problem.detail);

      await page.goto(`${api}/convert?amount=5&from=XYZ&to=RUB`);
      const fromError = page.locator('#convert-from-error');
      await fromError.waitFor();
      expect(await fromError.textContent()).toContain('XYZ');
      expect(c.problems.filter((p) => !p.includes('404'))).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('fits a 375 px screen', async () => {
    const n = await openConsole(cs.browser, `${api}/convert?amount=1&from=EUR&to=USD`, {
      viewport: { width: 375, height: 800 },
    });
    try {
      await n.page.locator('[data-testid="convert-result"]').waitFor();
      expect(await n.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      expect(n.problems).toEqual([]);
    } finally {
      await n.close();
    }
  });
});
