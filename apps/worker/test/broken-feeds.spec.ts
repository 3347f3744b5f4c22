// The broken-feed catalogue: every bad answer is survived (no crash), the last good data is kept
// exactly, and feed_status shows the error. Real Postgres, real NATS, the replay server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { getFeedStatus, type FeedSource } from '@ratewire/db';
import type { NatsConnection } from '@ratewire/runtime';
import { createTestDatabase, sleep, type TestDatabase } from '@ratewire/testkit';
import { brokenResponses, type BrokenKind } from '@ratewire/testkit/replay/broken-responses';
import { readFixture, spliceBytes } from '@ratewire/testkit/replay/fixtures';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';
import type { ReplayResponse } from '@ratewire/testkit/replay/responses';

import { BinanceClient } from '../src/binance/binance.client.ts';
import { BinanceService } from '../src/binance/binance.service.ts';
import { CbrClient } from '../src/cbr/cbr.client.ts';
import { pollCbr } from '../src/cbr/cbr.service.ts';
import { FeedPoller } from '../src/feeds/feed-poller.ts';
import { connectNats, recordingPublishes, testLog } from './support.ts';

const CBR_PATH = '/scripts/XML_daily.asp';
const PRICE_PATH = '/api/v3/ticker/price';
const GOOD_CBR = 'cbr/XML_daily_2024-11-09.xml';
const TIMEOUT_MS = 1000;

let database: TestDatabase;
let replay: ReplayServer;
let nats: NatsConnection;
let published: string[];

function cbrPoller() {
  const deps = {
    client: new CbrClient({ baseUrl: replay.url, timeoutMs: TIMEOUT_MS }),
    db: database.db,
    log: testLog,
    nats,
  };
  return new FeedPoller({
    source: 'cbr',
    intervalMs: 60_000,
    db: database.db,
    log: testLog,
    poll: (s) => pollCbr(deps, s),
  });
}

function binancePoller() {
  const client = new BinanceClient({ baseUrl: replay.url, timeoutMs: TIMEOUT_MS });
  const service = new BinanceService({ client, db: database.db, log: testLog, nats });
  return new FeedPoller({
    source: 'binance',
    intervalMs: 60_000,
    db: database.db,
    log: testLog,
    poll: (s) => service.poll(s),
  });
}

/** Everything a bad answer must not change, as comparable text. */
async function goodData(source: FeedSource): Promise<string> {
  if (source === 'cbr') {
    const rates = await database.db
      .selectFrom('cbr_rates')
      .select(['date', 'code', 'nominal', 'value', 'unit_rate', 'fetched_at'])
      .orderBy('date')
      .orderBy('code')
      .execute();
    const currencies = await database.db
      .selectFrom('currencies')
      .select(['code', 'nominal', 'rate', 'updated_at'])
      .orderBy('code')
      .execute();
    const days = await database.db
      .selectFrom('cbr_days')
      .select(['requested', 'effective'])
      .orderBy('requested')
      .execute();
    return JSON.stringify({ rates, currencies, days });
  }
  const prices = await database.db
    .selectFrom('binance_prices')
    .select(['symbol', 'price', 'updated_at'])
    .orderBy('symbol')
    .execute();
  const history = await database.db
    .selectFrom('binance_price_history')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirst();
  return JSON.stringify({ prices, history });
}

beforeAll(async () => {
  database = await createTestDatabase();
  replay = await startReplayServer();
  ({ nc: nats, published } = recordingPublishes(await connectNats()));
  // the last good data every case must keep
  replay.respond(CBR_PATH, { fixture: GOOD_CBR });
  expect(await cbrPoller().pollNow()).toMatchObject({ ok: true });
  expect(await binancePoller().pollNow()).toMatchObject({ ok: true });
  expect(published).toEqual(expect.arrayContaining(['rates.cbr.updated', 'rates.binance.updated']));
  replay.reset();
});

afterAll(async () => {
  await nats?.drain();
  await replay?.close();
  await database?.drop();
});

interface Case {
  name: string;
  source: FeedSource;
  response: ReplayResponse;
  error: RegExp;
}

const good = () => readFixture(GOOD_CBR);
const MB = 1024 * 1024;

const cases: Case[] = [
  // CBR
  {
    name: 'an HTML error page with 200',
    source: 'cbr',
    response: {
      contentType: 'text/html',
      body: '<html><head><title>Error</title></head><body><h1>Service temporarily unavailable</h1></body></html>',
    },
    error: /root element is not ValCurs/,
  },
  {
    name: 'an HTML page with a doctype',
    source: 'cbr',
    response: { contentType: 'text/html', body: '<!DOCTYPE html><html><body>maintenance</body></html>' },
    error: /DOCTYPE/,
  },
  { name: 'truncated XML', source: 'cbr', response: { body: good().subarray(0, 4000) }, error: /not well-formed/ },
  {
    name: 'a UTF-8 body labelled windows-1251',
    source: 'cbr',
    response: { fixture: 'cbr/reencoded/XML_daily_2024-10-15.xml' },
    error: /UTF-8 but its XML declaration says windows-1251/,
  },
  {
    name: 'an empty ValCurs',
    source: 'cbr',
    response: {
      body: '<?xml version="1.0" encoding="windows-1251"?><ValCurs Date="10.11.2024" name="Foreign Currency Market"></ValCurs>',
    },
    error: /no rates in ValCurs/,
  },
  {
    name: 'duplicate codes',
    source: 'cbr',
    response: { body: spliceBytes(good(), '<CharCode>AZN</CharCode>', '<CharCode>AUD</CharCode>') },
    error: /duplicate currency code AUD/,
  },
  {
    name: 'a zero value',
    source: 'cbr',
    response: { body: spliceBytes(good(), '<Value>65,0984</Value>', '<Value>0,0000</Value>') },
    error: /must be positive/,
  },
  {
    name: 'a negative value',
    source: 'cbr',
    response: { body: spliceBytes(good(), '<Value>65,0984</Value>', '<Value>-1,5</Value>') },
    error: /must be positive/,
  },
  {
    name: 'a garbage number',
    source: 'cbr',
    response: { body: spliceBytes(good(), '<Value>65,0984</Value>', '<Value>65.09.84</Value>') },
    error: /not a number/,
  },
  { name: 'an empty body with 200', source: 'cbr', response: { body: '' }, error: /empty body/ },
  { name: 'HTTP 500', source: 'cbr', response: { status: 500, body: 'Internal Server Error' }, error: /HTTP 500/ },
  { name: 'HTTP 503', source: 'cbr', response: { status: 503, body: '' }, error: /HTTP 503/ },
  {
    name: 'a redirect (not followed)',
    source: 'cbr',
    response: { status: 302, headers: { location: 'http://127.0.0.1:9/' } },
    error: /HTTP 302/,
  },
  {
    name: 'a timeout (no answer at all)',
    source: 'cbr',
    response: { hang: true },
    error: /no complete response within 1000 ms/,
  },
  {
    name: 'a body that trickles',
    source: 'cbr',
    response: { fixture: GOOD_CBR, trickle: { chunks: 20, intervalMs: 200 } },
    error: /no complete response within 1000 ms/,
  },
  {
    name: 'a connection closed without an answer',
    source: 'cbr',
    response: { destroy: 'before-headers' },
    error: /request failed/,
  },
  // Binance
  {
    name: 'non-JSON',
    source: 'binance',
    response: { contentType: 'text/html', body: '<html>502 Bad Gateway</html>' },
    error: /not JSON/,
  },
  {
    name: 'a JSON object where an array belongs',
    source: 'binance',
    response: { json: { code: -1003, msg: 'Too much request weight used' } },
    error: /expected an array/,
  },
  {
    name: 'a symbol missing its price',
    source: 'binance',
    response: { json: [{ symbol: 'BTCUSDT', price: '61234.50000000' }, { symbol: 'ETHUSDT' }] },
    error: /1\.price/,
  },
  {
    name: 'a price that is not a decimal',
    source: 'binance',
    response: { json: [{ symbol: 'BTCUSDT', price: '6.1e4' }] },
    error: /not a decimal/,
  },
  {
    name: 'a negative price',
    source: 'binance',
    response: { json: [{ symbol: 'BTCUSDT', price: '-1.00' }] },
    error: /not a decimal/,
  },
  {
    name: 'a price as a JSON number',
    source: 'binance',
    response: { json: [{ symbol: 'BTCUSDT', price: 61234.5 }] },
    error: /0\.price/,
  },
  {
    name: 'duplicate symbols',
    source: 'binance',
    response: {
      json: [
        { symbol: 'BTCUSDT', price: '1.00' },
        { symbol: 'BTCUSDT', price: '2.00' },
      ],
    },
    error: /duplicate symbol BTCUSDT/,
  },
  { name: 'an empty array', source: 'binance', response: { json: [] }, error: /no usable prices/ },
  {
    name: 'a body of several MB of junk',
    source: 'binance',
    response: {
      body: `[${'{"symbol":"JUNK","junk":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},'.repeat(40_000)}{}]`,
    },
    error: /bad ticker entry/,
  },
  {
    name: 'a body over the size limit',
    source: 'binance',
    response: { body: Buffer.alloc(5 * MB, 0x20) },
    error: /over 4194304 bytes/,
  },
  {
    name: 'HTTP 500',
    source: 'binance',
    response: { status: 500, json: { code: -1000, msg: 'An unknown error occurred' } },
    error: /HTTP 500/,
  },
  {
    name: 'a timeout',
    source: 'binance',
    response: { hang: { afterBytes: 10 }, fixture: 'binance/ticker_price_gururajo-project-crypto.json' },
    error: /no complete response within 1000 ms/,
  },
  {
    name: 'a body that trickles',
    source: 'binance',
    response: {
      fixture: 'binance/ticker_price_gururajo-project-crypto.json',
      trickle: { chunks: 20, intervalMs: 200 },
    },
    error: /no complete response/,
  },
];

/** Serves the bad answer(s), polls once, and checks nothing changed but feed_status. */
async function expectRejected(source: FeedSource, path: string, responses: ReplayResponse[], error: RegExp) {
  replay.reset();
  replay.respond(path, ...responses);
  const before = await goodData(source);
  const statusBefore = await getFeedStatus(database.db, source);
  const publishedBefore = published.length;

  const outcome = await (source === 'cbr' ? cbrPoller() : binancePoller()).pollNow();

  expect(outcome.ok).toBe(false);
  if (!outcome.ok) expect(outcome.error).toMatch(error);
  expect(await goodData(source)).toBe(before);
  const status = await getFeedStatus(database.db, source);
  expect(status?.last_error).toMatch(error);
  expect(status?.consecutive_failures).toBe((statusBefore?.consecutive_failures ?? 0) + 1);
  expect(status?.last_error_at?.getTime()).toBeGreaterThan(statusBefore?.last_error_at?.getTime() ?? 0);
  expect(status?.last_success_at).toEqual(statusBefore?.last_success_at);
  expect(published.slice(publishedBefore)).toEqual([]);
}

describe('broken-feed catalogue', () => {
  it('has at least 15 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)(
    '$source: $name → no crash, last good data kept, feed_status shows the error',
    async ({ source, response, error }) => {
      await expectRejected(source, source === 'cbr' ? CBR_PATH : PRICE_PATH, [response], error);
    },
  );
});

// The same properties over the testkit's own catalogue of broken answers.
const EXPECTED: Record<BrokenKind, RegExp> = {
  'http-error': /HTTP (429|418|5\d\d)/,
  timeout: /no complete response within 1000 ms/,
  // the replay server's mid-body destroy currently stalls instead of cutting the socket
  transport: /request failed|no complete response within 1000 ms/,
  malformed: /bad (CBR|Binance) response/,
  encoding: /UTF-8 but its XML declaration says windows-1251/,
  empty: /empty body|no rates in ValCurs|no usable prices|not JSON/,
  'invalid-data': /bad (CBR|Binance) response/,
  oversize: /over \d+ bytes/,
};

describe('testkit brokenResponses', () => {
  it.each(Object.values(brokenResponses))('$feed $name: $description', async (entry) => {
    await expectRejected(entry.feed, entry.path, entry.responses, EXPECTED[entry.kind]);
  });
});

describe('rate limits', () => {
  it.each([
    [429, /HTTP 429 \(rate limited\)/],
    [418, /HTTP 418 \(IP banned\)/],
  ])('Binance %i with Retry-After: no call until it has passed, then polling resumes', async (status, error) => {
    replay.reset();
    replay.respond(
      PRICE_PATH,
      { status, headers: { 'Retry-After': '2' }, json: { code: -1003, msg: 'Too many requests' } },
      { useDefault: true },
    );
    const poller = binancePoller();
    const before = await goodData('binance');

    const first = await poller.pollNow();
    expect(first.ok).toBe(false);
    if (!first.ok) expect(first.error).toMatch(error);
    const status1 = await getFeedStatus(database.db, 'binance');
    expect(status1?.last_error).toMatch(error);
    expect(status1?.paused_until?.getTime()).toBeGreaterThan(Date.now());
    expect(await goodData('binance')).toBe(before);

    const calls = replay.requests.length;
    const second = await poller.pollNow();
    expect(second).toMatchObject({ ok: false, error: expect.stringMatching(/paused/) });
    expect(replay.requests.length).toBe(calls);

    await sleep(2100);
    const third = await poller.pollNow();
    expect(third).toMatchObject({ ok: true });
    expect(replay.requests.length).toBeGreaterThan(calls);
    const status3 = await getFeedStatus(database.db, 'binance');
    expect(status3).toMatchObject({ consecutive_failures: 0, paused_until: null });
  });

  it('CBR 429 with Retry-After pauses the CBR feed the same way', async () => {
    replay.reset();
    replay.respond(CBR_PATH, { status: 429, headers: { 'Retry-After': '30' }, body: 'Too Many Requests' });
    const poller = cbrPoller();
    const first = await poller.pollNow();
    expect(first).toMatchObject({ ok: false, error: expect.stringMatching(/HTTP 429/) });
    const calls = replay.requests.length;
    expect(await poller.pollNow()).toMatchObject({ ok: false, error: expect.stringMatching(/paused/) });
    expect(replay.requests.length).toBe(calls);
  });

  it('reads X-MBX-USED-WEIGHT-1M and waits for the next minute when the budget is nearly used', async () => {
    replay.reset();
    replay.respond(PRICE_PATH, {
      fixture: 'binance/ticker_price_gururajo-project-crypto.json',
      headers: { 'X-MBX-USED-WEIGHT-1M': '5990' },
    });
    const client = new BinanceClient({ baseUrl: replay.url, timeoutMs: TIMEOUT_MS });
    await client.tickerPrices();
    expect(client.lastUsedWeight).toBe(5990);
    expect(client.notBefore?.getTime()).toBeGreaterThan(Date.now());
    const calls = replay.requests.length;
    await expect(client.tickerPrices()).rejects.toThrow(/paused until/);
    expect(replay.requests.length).toBe(calls);
  });
});

describe('recovery', () => {
  it('a good answer after failures resets consecutive_failures and writes again', async () => {
    replay.reset();
    replay.respond(CBR_PATH, { fixture: 'cbr/XML_daily_2024-03-28.xml' });
    expect(await cbrPoller().pollNow()).toMatchObject({ ok: true });
    const status = await getFeedStatus(database.db, 'cbr');
    expect(status?.consecutive_failures).toBe(0);
    expect(status?.last_error).toBeTruthy(); // the last error stays on record, with its time
    const day = await database.db.selectFrom('cbr_rates').select('code').where('date', '=', '2024-03-28').execute();
    expect(day).toHaveLength(43);
  });
});
