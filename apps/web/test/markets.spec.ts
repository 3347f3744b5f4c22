// The markets page over the whole service with a full market (2,519 TRADING symbols): a price the
// replay server starts answering reaches the table through the worker, NATS, the notifier and /ws;
// after the api restarts, the socket comes back and the table catches up without a page reload;
// and the budgets: the first load's JavaScript (asserted, a size), the time to a usable table and
// the event → DOM latency at 10 events/s (printed with [budget] and kept in apps/web/.budgets.json).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { dec } from '@ratewire/money';
import { connect } from 'nats';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { groupDigits, trimZeros } from '../src/core/format.ts';
import { ROW_HEIGHT } from '../src/pages/markets/binance-market.ts';
import { openConsole } from './browser.ts';
import { startConsoleStack, type ConsoleStack } from './console-stack.ts';
import { fullMarket } from './full-market.ts';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const BUDGETS_FILE = join(WEB, '.budgets.json');
const MARKET_SIZE = 2519;

const market = fullMarket(MARKET_SIZE);

/** The ticker/price answer with some prices changed. */
const pricesWith = (changes: Record<string, string>) =>
  market.prices.map((t) => (t.symbol in changes ? { symbol: t.symbol, price: changes[t.symbol]! } : t));

// ---- budgets -------------------------------------------------------------------------------------

const budgets: Record<string, unknown> = {};
function budget(name: string, value: unknown, line: string): void {
  console.log(`[budget] ${line}`);
  budgets[name] = value;
  const before = existsSync(BUDGETS_FILE) ? (JSON.parse(readFileSync(BUDGETS_FILE, 'utf8')) as object) : {};
  writeFileSync(
    BUDGETS_FILE,
    `${JSON.stringify({ ...before, markets: { ...budgets, measured_at: new Date().toISOString() } }, null, 2)}\n`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

// ---- page helpers --------------------------------------------------------------------------------

const shown = (price: string) => groupDigits(trimZeros(price));

/** Narrows the table to one symbol (the table is virtualised: a row far down is not in the DOM). */
async function findSymbol(page: Page, symbol: string): Promise<void> {
  await page.getByLabel('Search symbols').fill(symbol);
  await page.locator(`tr[data-symbol="${symbol}"]`).waitFor();
}

const priceOf = (page: Page, symbol: string) =>
  page.locator(`tr[data-symbol="${symbol}"] .price`).getAttribute('data-price', { timeout: 2000 });

let cs: ConsoleStack;
beforeAll(async () => {
  cs = await startConsoleStack({ replay: { binance: market.fixtures } });
}, 120_000);
afterAll(async () => {
  await cs?.close();
  market.remove();
});

describe('the markets page', () => {
  it('lists every TRADING symbol, searchable and sortable, with the CBR rates and their effective date', async () => {
    const c = await openConsole(cs.browser, cs.stack.url);
    try {
      const { page } = c;
      await expect
        .poll(() => page.locator('#market-count').textContent())
        .toBe(`${groupDigits(String(MARKET_SIZE))} symbols`);
      // virtualised: far fewer rows in the DOM than symbols
      const inDom = await page.locator('.market-table tbody tr[data-symbol]').count();
      expect(inDom).toBeGreaterThan(5);
      expect(inDom).toBeLessThan(100);
      const scroller = page.getByRole('region', { name: 'Binance prices (scrollable)' });
      // keyboard: the scroll box takes focus and End scrolls it to the last rows, the header stays
      await scroller.focus();
      await page.keyboard.press('End');
      const last = market.prices
        .map((t) => t.symbol)
        .sort()
        .at(-1)!;
      await page.locator(`tr[data-symbol="${last}"]`).waitFor();
      await expect.poll(() => page.locator('.market-table thead th').first().isVisible()).toBe(true);
      const headerBox = await page.locator('.market-table thead th').first().boundingBox();
      const scrollBox = await scroller.boundingBox();
      expect(Math.abs(headerBox!.y - scrollBox!.y)).toBeLessThan(3);

      await page.getByLabel('Search symbols').fill('btc');
      await expect.poll(() => page.locator('#market-count').textContent()).toMatch(/^Showing [\d,]+ of 2,519 symbols$/);
      const symbols = await page
        .locator('.market-table tbody tr[data-symbol]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol')!));
      expect(symbols.length).toBeGreaterThan(0);
      expect(symbols.every((s) => s.includes('BTC'))).toBe(true);
      await page.getByLabel('Search symbols').fill('/USDT');
      await expect.poll(() => page.locator('#market-count').textContent()).toMatch(/^Showing [\d,]+ of/);
      await page.getByLabel('Search symbols').fill('BTC-USDT');
      await expect(page.getByRole('alert').filter({ hasText: 'letters and digits' }).isVisible()).resolves.toBe(true);
      expect(await page.getByLabel('Search symbols').getAttribute('aria-invalid')).toBe('true');
      await page.getByLabel('Search symbols').fill('');

      // sort by price, highest first: exact order of the decimal strings
      await page.getByRole('button', { name: /^Price/ }).click();
      await expect.poll(() => page.locator('th[aria-sort]').textContent()).toMatch(/^Price/);
      expect(await page.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('descending');
      const top = await page
        .locator('.market-table tbody .price')
        .evaluateAll((els) => els.slice(0, 5).map((e) => e.getAttribute('data-price')!));
      const highest = [...market.prices].sort((a, b) => compareExact(b.price, a.price))[0]!;
      expect(compareExact(top[0]!, highest.price)).toBe(0);
      for (let i = 1; i < top.length; i++) expect(compareExact(top[i - 1]!, top[i]!)).toBeGreaterThanOrEqual(0);

      // CBR: the effective date and its source, a row per currency
      await page.locator('.effective').waitFor();
      const date = await page.locator('.effective').getAttribute('data-date');
      expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      await expect(page.locator('.effective').textContent()).resolves.toContain('Central Bank of Russia');
      expect(await page.locator('.cbr-table tbody tr').count()).toBeGreaterThan(10);
      await expect(page.locator('.source').first().textContent()).resolves.toMatch(/^Binance spot · last event/);
      // the window is computed from a fixed row height: the rows are that tall
      const rowBox = await page.locator('.market-table tbody tr[data-symbol]').first().boundingBox();
      expect(Math.abs(rowBox!.height - ROW_HEIGHT)).toBeLessThan(0.5);
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('reads the CBR rates again on a rates.cbr event, and the changed row says which way it moved', async () => {
    const c = await openConsole(cs.browser, cs.stack.url);
    const nats = await connect({ servers: cs.stack.nats.url });
    try {
      const { page } = c;
      await page.locator('.connection[data-state="live"]').waitFor();
      const row = page.locator('.cbr-table tr[data-code="USD"]');
      await row.waitFor();
      const date = (await page.locator('.effective').getAttribute('data-date'))!;
      const reads: number[] = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/rates/cbr/latest') reads.push(Date.now());
      });
      const rates = (await (await fetch(`${cs.stack.url}/api/v1/rates/cbr/latest?symbols=USD`)).json()) as {
        rates: { USD: { value: string; nominal: number; unit_rate: string } };
      };
      const usd = rates.rates.USD;
      nats.publish(
        'rates.cbr.updated',
        JSON.stringify({
          date,
          changed: [{ code: 'USD', ...usd, previous: { value: '1.0000', nominal: usd.nominal, unit_rate: '1.0000' } }],
        }),
      );
      await nats.flush();
      await expect.poll(() => row.locator('td').last().getAttribute('class'), { timeout: 10_000 }).toMatch(/\bup\b/);
      await expect.poll(() => reads.length).toBeGreaterThan(0);
      expect(c.problems).toEqual([]);
    } finally {
      await nats.close();
      await c.close();
    }
  });

  it('fits a 375 px phone: no page-wide horizontal scroll, the optional columns left out', async () => {
    const c = await openConsole(cs.browser, cs.stack.url, { viewport: { width: 375, height: 740 } });
    try {
      const { page } = c;
      await page.locator('.market-table tbody tr[data-symbol]').first().waitFor();
      await page.locator('.cbr-table tbody tr').first().waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      expect(await page.locator('.market-table thead th').nth(3).isVisible()).toBe(false);
      expect(await page.locator('.cbr-table thead th').nth(2).isVisible()).toBe(false);
      const rowBox = await page.locator('.market-table tbody tr[data-symbol]').first().boundingBox();
      expect(Math.abs(rowBox!.height - ROW_HEIGHT)).toBeLessThan(0.5);
      expect(rowBox!.x + rowBox!.width).toBeLessThanOrEqual(375);
      // symbols are read whole, not cut short
      const cut = await page
        .locator('.market-table tbody tr[data-symbol] th')
        .evaluateAll((cells) => cells.filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent));
      expect(cut).toEqual([]);
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('shows a price the replay server starts answering, exactly as sent', async () => {
    const c = await openConsole(cs.browser, cs.stack.url);
    try {
      const { page } = c;
      await page.locator('.connection[data-state="live"]').waitFor();
      await findSymbol(page, 'BTCUSDT');
      const before = await priceOf(page, 'BTCUSDT');
      const next = '61234.56780000';
      expect(before).not.toBe(next);
      // in the page: when the row first shows the new price (wall-clock ms)
      await page.evaluate((want) => {
        const w = window as unknown as { __shownAt?: number };
        const observer = new MutationObserver(() => {
          const el = document.querySelector('tr[data-symbol="BTCUSDT"] .price');
          if (el?.getAttribute('data-price') === want && w.__shownAt === undefined) {
            w.__shownAt = performance.timeOrigin + performance.now();
            observer.disconnect();
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      }, next);
      let servedAt: number | undefined;
      cs.stack.replay.respond('/api/v3/ticker/price', () => {
        servedAt ??= Date.now();
        return { json: pricesWith({ BTCUSDT: next }) };
      });
      await expect.poll(() => priceOf(page, 'BTCUSDT'), { timeout: 15_000 }).toBe(next);
      await expect(page.locator('tr[data-symbol="BTCUSDT"] .price').textContent()).resolves.toBe(shown(next));
      // the row says which way it moved, and when
      expect(await page.locator('tr[data-symbol="BTCUSDT"] td').nth(1).getAttribute('class')).toMatch(/\b(up|down)\b/);
      expect(await page.locator('tr[data-symbol="BTCUSDT"] time').getAttribute('datetime')).toMatch(
        /^\d{4}-\d\d-\d\dT/,
      );
      const shownAt = await page.evaluate(() => (window as unknown as { __shownAt?: number }).__shownAt);
      expect(shownAt).toBeDefined();
      const ms = Math.round(shownAt! - servedAt!);
      budget(
        'replay_to_dom_ms',
        ms,
        `replay answer served → BTCUSDT row shows the price: ${ms} ms (poll, store, NATS, notifier, /ws, render)`,
      );
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('reconnects after the api restarts and catches up without reloading the page', async () => {
    const c = await openConsole(cs.browser, cs.stack.url);
    try {
      const { page } = c;
      await page.locator('.connection[data-state="live"]').waitFor();
      await findSymbol(page, 'ETHBTC');
      await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));
      const snapshotReads: number[] = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/rates/binance') snapshotReads.push(Date.now());
      });
      const states: string[] = [];
      const watchStates = setInterval(() => {
        void page
          .locator('.connection')
          .getAttribute('data-state')
          .then((s) => s && states.at(-1) !== s && states.push(s))
          .catch(() => undefined);
      }, 50);
      const next = '0.07777777';
      const restarted = cs.stack.restartApi();
      // the worker keeps polling while the api is away
      cs.stack.replay.respond('/api/v3/ticker/price', {
        json: pricesWith({ BTCUSDT: '61234.56780000', ETHBTC: next }),
      });
      await expect
        .poll(() => page.locator('.connection').getAttribute('data-state'), { timeout: 20_000 })
        .not.toBe('live');
      await restarted;
      const backAt = Date.now();
      await page.locator('.connection[data-state="live"]').waitFor({ timeout: 20_000 });
      clearInterval(watchStates);
      await expect.poll(() => priceOf(page, 'ETHBTC'), { timeout: 15_000 }).toBe(next);
      expect(states).toContain('reconnecting');
      expect(states.at(-1)).toBe('live');
      expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(1);
      // the snapshot was read again after the socket came back
      await expect.poll(() => snapshotReads.filter((t) => t >= backAt).length).toBeGreaterThan(0);
      expect(c.problems.filter((p) => !p.includes('WebSocket') && !p.includes('ERR_CONNECTION_REFUSED'))).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('first load: JavaScript size (asserted) and time to a usable table (reported)', async () => {
    const dist = join(WEB, 'dist');
    // the build is shared with the other console suites: one may be rebuilding it right now
    await expect.poll(() => existsSync(join(dist, '.inputs-digest')), { timeout: 60_000 }).toBe(true);
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    const src = /<script[^>]+src="\/([^"]+)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<
      string,
      { file: string; imports?: string[]; isEntry?: boolean }
    >;
    const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry && manifest[k]!.file === src);
    expect(entryKey).toBeDefined();
    const files = new Set<string>();
    const walk = (key: string) => {
      const chunk = manifest[key]!;
      if (files.has(chunk.file)) return;
      files.add(chunk.file);
      for (const i of chunk.imports ?? []) walk(i);
    };
    walk(entryKey!);
    const gzipBytes = [...files].reduce((n, f) => n + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0);
    const kb = Math.round(gzipBytes / 102.4) / 10;
    budget(
      'initial_js_gzip_kb',
      kb,
      `initial JavaScript (${files.size} file${files.size > 1 ? 's' : ''}), gzip: ${kb} KB (limit 100 KB)`,
    );
    expect(gzipBytes).toBeLessThanOrEqual(100 * 1024);

    const loads: { rows: number; dcl: number; readStart: number; readEnd: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await openConsole(cs.browser, cs.stack.url);
      try {
        const { page } = c;
        await page.locator('.market-table tbody tr[data-symbol]').first().waitFor();
        // the search box takes input and the table answers it
        await page.getByLabel('Search symbols').fill('ETHBTC');
        await page.locator('#market-count').filter({ hasText: 'Showing 1 of' }).waitFor();
        const t = await page.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          const rows = performance.getEntriesByName('markets:rows-shown')[0]!;
          const read = performance
            .getEntriesByType('resource')
            .find((e) => new URL(e.name).pathname === '/api/v1/rates/binance') as PerformanceResourceTiming | undefined;
          return {
            rows: rows.startTime - nav.startTime,
            dcl: nav.domContentLoadedEventEnd - nav.startTime,
            readStart: (read?.startTime ?? 0) - nav.startTime,
            readEnd: (read?.responseEnd ?? 0) - nav.startTime,
          };
        });
        loads.push(t);
        expect(c.problems).toEqual([]);
      } finally {
        await c.close();
      }
    }
    const rowsMs = Math.round(median(loads.map((l) => l.rows)));
    const dclMs = Math.round(median(loads.map((l) => l.dcl)));
    const readStartMs = Math.round(median(loads.map((l) => l.readStart)));
    const readEndMs = Math.round(median(loads.map((l) => l.readEnd)));
    budget(
      'markets_interactive_ms',
      {
        median: rowsMs,
        loads: loads.map((l) => Math.round(l.rows)),
        dom_content_loaded_median: dclMs,
        snapshot_request_start_median: readStartMs,
        snapshot_response_end_median: readEndMs,
      },
      `markets interactive (navigation start → first rows shown, search box ready), median of 5 fresh loads: ${rowsMs} ms ` +
        `(each: ${loads.map((l) => Math.round(l.rows)).join(', ')} ms; medians: DOMContentLoaded ${dclMs} ms, snapshot read ${readStartMs}–${readEndMs} ms)`,
    );
  }, 120_000);

  it('follows 10 events/s for 30 s with the full table: every event shown (asserted), event → DOM latency (reported)', async () => {
    const c = await openConsole(cs.browser, 'about:blank');
    const nats = await connect({ servers: cs.stack.nats.url });
    try {
      const { page } = c;
      // every frame's arrival (wall-clock ms), before the session's own listener runs
      await page.addInitScript(() => {
        const w = window as unknown as { __frames: [number, string][] };
        w.__frames = [];
        const Native = window.WebSocket;
        // a listener added in the constructor runs before any the page adds
        window.WebSocket = class extends Native {
          constructor(url: string | URL, protocols?: string | string[]) {
            super(url, protocols);
            this.addEventListener('message', (ev: MessageEvent) => {
              w.__frames.push([performance.timeOrigin + performance.now(), String(ev.data)]);
            });
          }
        };
      });
      await page.goto(cs.stack.url);
      await page
        .locator('.connection[data-state="live"]')
        .waitFor()
        .catch((err: unknown) => {
          throw new Error(`not live (${c.problems.join('; ')}): ${String(err)}`);
        });
      await expect.poll(() => page.locator('#market-count').textContent()).toBe('2,519 symbols');
      // the symbols in view at the top of the table
      const visible = await page.locator('.market-table tbody tr[data-symbol]').evaluateAll((rows) => {
        const box = document.querySelector('.market-scroll')!.getBoundingClientRect();
        return rows
          .filter((r) => {
            const b = r.getBoundingClientRect();
            return b.top >= box.top + 36 && b.bottom <= box.bottom;
          })
          .map((r) => r.getAttribute('data-symbol')!);
      });
      expect(visible.length).toBeGreaterThanOrEqual(8);
      // when each price first shows in a row (wall-clock ms)
      await page.evaluate(() => {
        const w = window as unknown as { __shown: Record<string, number> };
        w.__shown = {};
        const note = (el: Element, at: number) => {
          const p = el.getAttribute('data-price');
          if (p && w.__shown[p] === undefined) w.__shown[p] = at;
        };
        new MutationObserver((records) => {
          const at = performance.timeOrigin + performance.now();
          for (const r of records)
            for (const n of r.addedNodes) {
              if (!(n instanceof Element)) continue;
              if (n.matches('.price')) note(n, at);
              else for (const el of n.querySelectorAll('.price')) note(el, at);
            }
        }).observe(document.querySelector('.market-table tbody')!, { subtree: true, childList: true });
      });

      const EVENTS = 300;
      const published: string[] = [];
      const started = Date.now();
      for (let i = 0; i < EVENTS; i++) {
        const symbol = visible[i % visible.length]!;
        const price = `${9000 + i}.${String(i).padStart(8, '0')}`;
        published.push(price);
        nats.publish(
          'rates.binance.updated',
          JSON.stringify({ ts: new Date().toISOString(), changed: [{ symbol, price, previous: '1.00000000' }] }),
        );
        const due = started + (i + 1) * 100;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      }
      await nats.flush();
      await expect
        .poll(() => page.evaluate(() => Object.keys((window as unknown as { __shown: object }).__shown).length), {
          timeout: 15_000,
        })
        .toBeGreaterThanOrEqual(EVENTS);
      const { shown: seen, frames } = await page.evaluate(() => {
        const w = window as unknown as { __shown: Record<string, number>; __frames: [number, string][] };
        return { shown: w.__shown, frames: w.__frames };
      });
      const arrivals = new Map<string, number>();
      for (const [at, raw] of frames) {
        const frame = JSON.parse(raw) as { type: string; data?: { changed?: { price: string }[] } };
        if (frame.type !== 'event') continue;
        for (const ch of frame.data?.changed ?? []) if (!arrivals.has(ch.price)) arrivals.set(ch.price, at);
      }
      const latencies = published.flatMap((p) =>
        seen[p] !== undefined && arrivals.has(p) ? [seen[p] - arrivals.get(p)!] : [],
      );
      const reflected = published.filter((p) => seen[p] !== undefined).length;
      const p50 = Math.round(percentile(latencies, 50) * 10) / 10;
      const p99 = Math.round(percentile(latencies, 99) * 10) / 10;
      budget(
        'event_to_dom_ms',
        { p50, p99, max: Math.round(Math.max(...latencies) * 10) / 10, events: EVENTS, reflected, rate_per_s: 10 },
        `event → DOM at 10 events/s with ${MARKET_SIZE} rows, ${EVENTS} events: p50 ${p50} ms, p99 ${p99} ms; reflected ${reflected}/${EVENTS}`,
      );
      expect(reflected).toBe(EVENTS);
      expect(c.problems).toEqual([]);
    } finally {
      await nats.close();
      await c.close();
    }
  }, 90_000);
});

/** Exact order of two non-negative decimal strings (the test's own, apart from the page's code). */
/** The exact order of two decimal strings, by decimal.js (what the service computes with). */
const compareExact = (a: string, b: string): number => dec(a).comparedTo(dec(b));
