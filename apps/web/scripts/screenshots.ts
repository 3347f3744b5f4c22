// Takes the screenshots under docs/console/: each page of the console against a whole local stack
// (api, worker, notifier over the feed replay server, with a full market of TRADING symbols), signed in as a fresh account with a job and
// an alert of its own. Needs the local services: `npm run services` in another terminal, and the
// settings it prints (DATABASE_URL, REDIS_URL, NATS_URL). Run: `pnpm --filter @ratewire/web screenshots`.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { mul, roundFixed } from '@ratewire/money';
import type { Page } from 'playwright-core';

import { buildConsole } from '../build.ts';
import { openConsole } from '../test/browser.ts';
import { startConsoleStack } from '../test/console-stack.ts';
import { loadCbrDays, scriptCbrHistory, weekdays } from '../test/cbr-history.ts';
import { fullMarket } from '../test/full-market.ts';

const OUT = fileURLToPath(new URL('../../../docs/console/', import.meta.url));

await buildConsole({ quiet: true });
const market = fullMarket();
const cs = await startConsoleStack({ replay: { binance: market.fixtures } });
try {
  const { stack } = cs;
  // three months of CBR publications before the newest, so the chart has a history to draw
  const days = weekdays('2024-08-01', '2024-11-08');
  scriptCbrHistory(stack.replay, days);
  await loadCbrDays(stack.url, days);
  const user = await stack.user();
  const bearer = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
  const job = (await (
    await fetch(`${stack.url}/api/v1/exchange-jobs`, {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({
        request_id: randomUUID(),
        currency: 'USD',
        bills: [
          { denomination_id: 1, denomination: '100', count: 12 },
          { denomination_id: 2, denomination: '50', count: 7 },
          { denomination_id: 3, denomination: '20', count: 30 },
        ],
      }),
    })
  ).json()) as { job_id?: string };
  await fetch(`${stack.url}/api/v1/alerts`, {
    method: 'POST',
    headers: bearer,
    body: JSON.stringify({
      source: 'binance',
      symbol: 'BTCUSDT',
      condition: { type: 'crosses_above', level: '120000' },
      frequency: 'every_time',
      channels: ['ws', 'email'],
    }),
  });

  mkdirSync(OUT, { recursive: true });
  const shoot = async (page: Page, name: string, fullPage = false) => {
    await page.waitForLoadState('networkidle').catch(() => undefined);
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
    console.log(`docs/console/${name}.png`);
  };

  // a few of the first rows move, twice, so the table shows changes as they arrive
  const moving = [...market.prices].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)).slice(0, 12);
  const nudge = (price: string, up: boolean) => roundFixed(mul(price, up ? '1.0031' : '0.9974'), 8);
  const move = (round: number) => {
    const changed = new Map(moving.map((t, i) => [t.symbol, nudge(t.price, (i + round) % 3 !== 0)]));
    stack.replay.respond('/api/v3/ticker/price', {
      json: market.prices.map((t) => ({ symbol: t.symbol, price: changed.get(t.symbol) ?? t.price })),
    });
  };

  const desktop = await openConsole(cs.browser, `${stack.url}/`, {
    viewport: { width: 1280, height: 800 },
    reducedMotion: 'no-preference',
  });
  await desktop.page.locator('.connection[data-state="live"]').waitFor();
  move(0);
  await desktop.page.waitForTimeout(2500);
  move(1);
  await desktop.page.locator('.flash-up, .flash-down').first().waitFor();
  await desktop.page.screenshot({ path: join(OUT, 'markets.png'), fullPage: true });
  console.log('docs/console/markets.png');
  await desktop.page.evaluate(
    async ({ email, password }) => {
      await fetch('/api/v1/auth/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
    },
    { email: user.email, password: user.password },
  );
  for (const [path, name] of [
    ['/charts', 'charts'],
    ['/convert', 'convert'],
    [job.job_id ? `/jobs?id=${job.job_id}` : '/jobs', 'jobs'],
    ['/alerts', 'alerts'],
    ['/account', 'account'],
  ] as const) {
    await desktop.page.goto(`${stack.url}${path}`);
    await desktop.page.locator('h1').waitFor();
    await shoot(desktop.page, name, name !== 'charts' && name !== 'convert');
  }
  await desktop.close();

  const phone = await openConsole(cs.browser, `${stack.url}/`, { viewport: { width: 390, height: 844 } });
  await phone.page.locator('.connection[data-state="live"]').waitFor();
  await shoot(phone.page, 'markets-phone');
  await phone.close();
} finally {
  await cs.close();
  market.remove();
}
