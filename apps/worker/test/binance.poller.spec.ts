// The Binance poller against the replay server, the real Postgres and the real NATS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SUBJECTS, binanceUpdatedEvent, type BinanceUpdatedEvent } from '@ratewire/contracts';
import { BinanceSnapshotWriter } from '@ratewire/db';
import { equal } from '@ratewire/money';
import type { NatsConnection } from '@ratewire/runtime';
import { createTestDatabase, type TestDatabase } from '@ratewire/testkit';
import { readFixture } from '@ratewire/testkit/replay/fixtures';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

import { BinanceClient } from '../src/binance/binance.client.ts';
import { BinanceService } from '../src/binance/binance.service.ts';
import { FeedPoller } from '../src/feeds/feed-poller.ts';
import { runBinanceRetention } from '../src/retention/binance-retention.ts';
import { collect, connectNats, testLog, type Collector } from './support.ts';

const PRICE_PATH = '/api/v3/ticker/price';
const INFO_PATH = '/api/v3/exchangeInfo';
const GURURAJO = 'binance/ticker_price_gururajo-project-crypto.json';
// the full symbol list: 1,695 of GURURAJO's priced symbols are in it, 877 of them TRADING
const FULL_INFO = 'binance/exchangeInfo_SM2A-Binance_API.json';
const tradingIn = (rel: string) =>
  new Set(
    (JSON.parse(readFixture(rel).toString('utf8')) as { symbols: { symbol: string; status: string }[] }).symbols
      .filter((s) => s.status === 'TRADING')
      .map((s) => s.symbol),
  );
const FOOLSDUCK = 'binance/ticker_price_FoolsDuck-binance_bot.json';

let database: TestDatabase;
let replay: ReplayServer;
let nats: NatsConnection;
let events: Collector<BinanceUpdatedEvent>;
let poller: FeedPoller;
// snapshot times of this suite's polls: other suites share NATS, the ts tells ours apart
let clock = Date.parse('2031-01-01T00:00:00.000Z') + Math.floor(Math.random() * 1e9);
const ours = new Set<string>();

const fixturePrices = (rel: string) =>
  new Map(
    (JSON.parse(readFixture(rel).toString('utf8')) as { symbol: string; price: string }[]).map((e) => [
      e.symbol,
      e.price,
    ]),
  );

async function stored() {
  const rows = await database.db.selectFrom('binance_prices').select(['symbol', 'price']).execute();
  return new Map(rows.map((r) => [r.symbol, r.price]));
}
async function historyCount() {
  const row = await database.db
    .selectFrom('binance_price_history')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

beforeAll(async () => {
  database = await createTestDatabase();
  replay = await startReplayServer();
  nats = await connectNats();
  events = collect<BinanceUpdatedEvent>(nats, SUBJECTS.ratesBinanceUpdated, (e) => ours.has(e.ts));
  const client = new BinanceClient({ baseUrl: replay.url, timeoutMs: 5000 });
  const now = () => {
    clock += 1000;
    const at = new Date(clock);
    ours.add(at.toISOString());
    return at;
  };
  const service = new BinanceService({ client, db: database.db, log: testLog, nats, now });
  poller = new FeedPoller({
    source: 'binance',
    intervalMs: 60_000,
    db: database.db,
    log: testLog,
    poll: (s) => service.poll(s),
  });
});

afterAll(async () => {
  events?.stop();
  await poller?.stop();
  await nats?.drain();
  await replay?.close();
  await database?.drop();
});

describe('Binance poll', () => {
  const trading = tradingIn(FULL_INFO);

  it('first snapshot: every symbol stored as sent, all in history, one event listing the TRADING ones with previous null', async () => {
    replay.respond(INFO_PATH, { fixture: FULL_INFO });
    replay.respond(PRICE_PATH, { fixture: GURURAJO });
    expect(await poller.pollNow()).toMatchObject({ ok: true });
    await events.settle(nats);
    const expected = fixturePrices(GURURAJO);
    const prices = await stored();
    expect(prices.size).toBe(1695);
    expect(prices.size).toBe(expected.size);
    for (const [symbol, price] of expected) expect(prices.get(symbol), symbol).toBe(price);
    expect(await historyCount()).toBe(expected.size);
    expect(events.messages).toHaveLength(1);
    const event = binanceUpdatedEvent.parse(events.messages[0]!.data);
    // halted and delisted pairs are stored at their last price but not announced
    expect(event.changed).toHaveLength(877);
    expect(event.changed.every((c) => trading.has(c.symbol))).toBe(true);
    expect(event.changed.every((c) => c.previous === null && c.price === expected.get(c.symbol))).toBe(true);
  });

  it('loads the symbol list from exchangeInfo once, not on every poll', async () => {
    const symbols = await database.db.selectFrom('binance_symbols').selectAll().orderBy('symbol').execute();
    expect(symbols.length).toBeGreaterThanOrEqual(2292);
    expect(symbols.find((s) => s.symbol === 'BTCUSDT')).toMatchObject({
      status: 'TRADING',
      base_asset: 'BTC',
      quote_asset: 'USDT',
    });
    const priced = fixturePrices(GURURAJO);
    expect(symbols.filter((s) => priced.has(s.symbol) && s.status === 'TRADING')).toHaveLength(877);
    expect(symbols.some((s) => priced.has(s.symbol) && s.status === 'BREAK')).toBe(true);
    expect(replay.requests.filter((r) => r.path === INFO_PATH)).toHaveLength(1);
  });

  it('the same snapshot again: nothing written to history, no event', async () => {
    const historyBefore = await historyCount();
    const eventsBefore = events.messages.length;
    expect(await poller.pollNow()).toMatchObject({ ok: true, summary: expect.stringMatching(/, 0 changed/) });
    await events.settle(nats);
    expect(await historyCount()).toBe(historyBefore);
    expect(events.messages.length).toBe(eventsBefore);
    expect(replay.requests.filter((r) => r.path === INFO_PATH)).toHaveLength(1);
  });

  it('a later snapshot: exactly the changed symbols in history, and the changed TRADING ones with their previous prices in one event', async () => {
    const before = await stored();
    const historyBefore = await historyCount();
    const eventsBefore = events.messages.length;
    replay.respond(PRICE_PATH, { fixture: FOOLSDUCK });
    expect(await poller.pollNow()).toMatchObject({ ok: true });
    await events.settle(nats);

    const next = fixturePrices(FOOLSDUCK);
    const changed = [...next].filter(([s, p]) => !before.has(s) || !equal(before.get(s)!, p));
    expect(changed.length).toBeGreaterThan(100);
    const after = await stored();
    for (const [s, p] of next) expect(after.get(s)).toBe(p);
    for (const [s, p] of before) if (!next.has(s)) expect(after.get(s)).toBe(p);
    expect(await historyCount()).toBe(historyBefore + changed.length);

    const fresh = events.messages.slice(eventsBefore).map((m) => binanceUpdatedEvent.parse(m.data));
    expect(fresh).toHaveLength(1);
    const got = new Map(fresh[0]!.changed.map((c) => [c.symbol, c]));
    const announced = changed.filter(([s]) => trading.has(s));
    expect(announced.length).toBeGreaterThan(50);
    expect([...got.keys()].sort()).toEqual(announced.map(([s]) => s).sort());
    for (const [s, p] of announced)
      expect(got.get(s)).toEqual({ symbol: s, price: p, previous: before.get(s) ?? null });
  });

  it('feed_status records the success', async () => {
    const row = await database.db
      .selectFrom('feed_status')
      .selectAll()
      .where('source', '=', 'binance')
      .executeTakeFirst();
    expect(row).toMatchObject({ consecutive_failures: 0, last_error: null });
  });
});

describe('exchangeInfo', () => {
  it('takes the full 3.7 MB answer (2,292 symbols) and its weight limit', async () => {
    const client = new BinanceClient({ baseUrl: replay.url, timeoutMs: 10_000 });
    replay.respond(INFO_PATH, { fixture: 'binance/exchangeInfo_SM2A-Binance_API.json' });
    replay.respond(PRICE_PATH, { fixture: GURURAJO });
    const service = new BinanceService({ client, db: database.db, log: testLog, nats });
    await service.poll(new AbortController().signal);
    const n = await database.db
      .selectFrom('binance_symbols')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBeGreaterThanOrEqual(2292);
    expect(client.weightLimit).toBe(6000);
  });
});

describe('history retention', () => {
  it('deletes only history older than the window, in batches, and never touches latest prices', async () => {
    const latestBefore = await stored();
    const old = new Date(Date.now() - 9 * 86_400_000);
    await database.db
      .insertInto('binance_price_history')
      .values(Array.from({ length: 250 }, (_, i) => ({ symbol: 'OLDUSDT', price: `${i + 1}.5`, observed_at: old })))
      .execute();
    const total = await historyCount();
    const deleted = await runBinanceRetention({
      db: database.db,
      log: testLog,
      retentionDays: 7,
      batchSize: 100,
      pauseMs: 0,
    });
    expect(deleted).toBe(250);
    expect(await historyCount()).toBe(total - 250);
    expect(await stored()).toEqual(latestBefore);
  });
});

describe('BinanceSnapshotWriter', () => {
  it('sends only moved prices, agrees with the full statement, and after reset() trusts nothing it remembered', async () => {
    const own = await createTestDatabase();
    try {
      const writer = new BinanceSnapshotWriter(own.db, { fullEvery: 1000 });
      const symbols = ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'];
      const at = new Date('2031-06-01T00:00:00Z');
      expect(await writer.persist({ symbols, prices: ['1.0', '2.0', '3.0'], observedAt: at })).toHaveLength(3);
      const second = await writer.persist({ symbols, prices: ['1.0', '2.5', '3.0'], observedAt: at });
      expect(second).toEqual([{ symbol: 'BBBUSDT', price: '2.5', previous: '2.0' }]);
      // a write it did not make (another leader's, say) is invisible to its memory...
      await own.db.updateTable('binance_prices').set({ price: '9.9' }).where('symbol', '=', 'AAAUSDT').execute();
      expect(await writer.persist({ symbols, prices: ['1.0', '2.5', '3.0'], observedAt: at })).toEqual([]);
      // ...until a new term resets it: then the whole snapshot goes and the table is right again
      writer.reset();
      expect(await writer.persist({ symbols, prices: ['1.0', '2.5', '3.0'], observedAt: at })).toEqual([
        { symbol: 'AAAUSDT', price: '1.0', previous: '9.9' },
      ]);
    } finally {
      await own.drop();
    }
  });
});
