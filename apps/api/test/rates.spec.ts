import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  SUBJECTS,
  binancePriceResponse,
  binancePricesResponse,
  cbrRatesResponse,
  cbrSeriesResponse,
  convertResponse,
} from '@ratewire/contracts';
import { createLogger } from '@ratewire/runtime';
import { waitFor } from '@ratewire/testkit';

import { ResponseCache } from '../src/cache/response-cache.ts';
import { RatesService } from '../src/rates/rates.service.ts';
import { insertCbrDay, rawGet, startRestApi, upsertBinancePrices, type RestEnv } from './rest-support.ts';

let t: RestEnv;
beforeAll(async () => {
  t = await startRestApi();
  // Thursday 2024-03-28 and Friday 2024-03-29 (JPY per 100); Saturday/Sunday resolve to Friday
  await insertCbrDay(t.database.db, '2024-03-28', [
    { code: 'USD', nominal: 1, value: '92.2628' },
    { code: 'EUR', nominal: 1, value: '99.7057' },
    { code: 'JPY', nominal: 100, value: '61.0145' },
  ]);
  await insertCbrDay(
    t.database.db,
    '2024-03-29',
    [
      { code: 'USD', nominal: 1, value: '92.3660' },
      { code: 'EUR', nominal: 1, value: '99.6125' },
      { code: 'JPY', nominal: 100, value: '61.0200' },
    ],
    ['2024-03-30', '2024-03-31'],
  );
  await upsertBinancePrices(
    t.database.db,
    { BTCUSDT: '70123.45000000', ETHUSDT: '3512.10000000', ETHBTC: '0.05692000' },
    new Date('2024-03-10T02:47:00Z'),
  );
});
afterAll(async () => {
  await t?.close();
});

describe('GET /api/v1/rates/cbr/latest', () => {
  it('answers the newest published date with value, nominal and unit rate as decimal strings', async () => {
    const res = await t.request('GET', '/api/v1/rates/cbr/latest');
    expect(res.status).toBe(200);
    const body = cbrRatesResponse.parse(res.body);
    expect(body).toMatchObject({ date: '2024-03-29', base: 'RUB' });
    expect(body.rates.USD).toEqual({ value: '92.3660', nominal: 1, unit_rate: '92.366' });
    expect(body.rates.JPY).toEqual({ value: '61.0200', nominal: 100, unit_rate: '0.6102' });
    expect(res.headers.get('cache-control')).toBe('public, max-age=5');
    expect(res.headers.get('vary')).toBe('Accept, Accept-Encoding');
  });

  it('filters by symbols, and answers 404 naming an unknown one', async () => {
    const res = await t.request('GET', '/api/v1/rates/cbr/latest?symbols=usd,EUR');
    expect(Object.keys(cbrRatesResponse.parse(res.body).rates)).toEqual(['USD', 'EUR']);
    const unknown = await t.request<{ detail: string }>('GET', '/api/v1/rates/cbr/latest?symbols=USD,XAU');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('XAU');
    expect((await t.request('GET', '/api/v1/rates/cbr/latest?symbols=US1')).status).toBe(422);
  });

  it('answers 304 to a matching If-None-Match (also for an encoded variant’s tag)', async () => {
    const first = await rawGet(`${t.url}/api/v1/rates/cbr/latest`);
    const etag = first.headers.etag!;
    expect((await rawGet(`${t.url}/api/v1/rates/cbr/latest`, { 'if-none-match': etag })).status).toBe(304);
    expect((await rawGet(`${t.url}/api/v1/rates/cbr/latest`, { 'if-none-match': `W/${etag}` })).status).toBe(304);
    expect((await rawGet(`${t.url}/api/v1/rates/cbr/latest`, { 'if-none-match': '"other"' })).status).toBe(200);
  });
});

describe('GET /api/v1/rates/cbr/{date}', () => {
  it('answers a published day with its own date, cacheable forever', async () => {
    const res = await t.request('GET', '/api/v1/rates/cbr/2024-03-28');
    expect(res.status).toBe(200);
    const body = cbrRatesResponse.parse(res.body);
    expect(body).toMatchObject({ date: '2024-03-28', requested: '2024-03-28' });
    expect(body.rates.USD?.value).toBe('92.2628');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('resolves a weekend to the last publication (effective date returned)', async () => {
    const res = await t.request('GET', '/api/v1/rates/cbr/2024-03-31?symbols=EUR');
    const body = cbrRatesResponse.parse(res.body);
    expect(body).toMatchObject({ date: '2024-03-29', requested: '2024-03-31', rates: { EUR: { value: '99.6125' } } });
    expect(Object.keys(body.rates)).toEqual(['EUR']);
  });

  it('asks a worker for a day never stored (NATS request/reply) and answers what it stored', async () => {
    const requests: unknown[] = [];
    const sub = t.deps.nats.subscribe(SUBJECTS.ratesCbrFetchDay, {
      callback: (_err, msg) => {
        const req = JSON.parse(Buffer.from(msg.data).toString()) as { date: string };
        requests.push(req);
        void insertCbrDay(
          t.database.db,
          '2021-03-17',
          [{ code: 'USD', nominal: 1, value: '73.6376' }],
          ['2021-03-18'],
        ).then(() => msg.respond(JSON.stringify({ ok: true, requested: req.date, effective: '2021-03-17' })));
      },
    });
    await t.deps.nats.flush();
    try {
      const res = await t.request('GET', '/api/v1/rates/cbr/2021-03-18');
      expect(res.status).toBe(200);
      expect(cbrRatesResponse.parse(res.body)).toMatchObject({
        date: '2021-03-17',
        requested: '2021-03-18',
        rates: { USD: { value: '73.6376' } },
      });
      expect(requests).toEqual([{ date: '2021-03-18' }]);
      // stored now: asked again, the worker is not needed
      expect((await t.request('GET', '/api/v1/rates/cbr/2021-03-18')).status).toBe(200);
      expect(requests).toHaveLength(1);
    } finally {
      sub.unsubscribe();
    }
  });

  it('answers 404 when CBR has no rates for the day, 502 when the worker reports a failure', async () => {
    const sub = t.deps.nats.subscribe(SUBJECTS.ratesCbrFetchDay, {
      callback: (_err, msg) => {
        const { date } = JSON.parse(Buffer.from(msg.data).toString()) as { date: string };
        msg.respond(
          JSON.stringify(
            date === '1995-01-01' ? { ok: true, requested: date, effective: null } : { ok: false, error: 'CBR 500' },
          ),
        );
      },
    });
    await t.deps.nats.flush();
    try {
      const none = await t.request('GET', '/api/v1/rates/cbr/1995-01-01');
      expect(none.status).toBe(404);
      expect(none.body).toMatchObject({ code: 'no_cbr_rates' });
      const failed = await t.request<{ detail: string }>('GET', '/api/v1/rates/cbr/1996-01-01');
      expect(failed.status).toBe(502);
      expect(failed.body.detail).toContain('CBR 500');
    } finally {
      sub.unsubscribe();
    }
  });

  it('answers 503 when no worker is there to fetch the day', async () => {
    const res = await t.request('GET', '/api/v1/rates/cbr/2001-01-01');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'cbr_fetch_unavailable' });
  });

  it('answers 504 when the worker does not reply in time', async () => {
    const sub = t.deps.nats.subscribe('test.fetch-day.silent', { callback: () => {} });
    await t.deps.nats.flush();
    const service = new RatesService({
      db: t.database.db,
      nats: t.deps.nats,
      log: createLogger('test', 'silent'),
      versions: new ResponseCache({
        redis: t.deps.redis,
        prefix: 'rw:test:silent:',
        log: createLogger('test', 'silent'),
      }),
      fetchDaySubject: 'test.fetch-day.silent',
      fetchDayTimeoutMs: 200,
    });
    try {
      await expect(service.cbrOn('2002-02-02')).rejects.toMatchObject({ status: 504, code: 'cbr_fetch_timeout' });
    } finally {
      sub.unsubscribe();
    }
  });

  it('answers 422 for a day after tomorrow or a malformed date; 404 before CBR began', async () => {
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const res = await t.request<{ errors: { path: string }[] }>('GET', `/api/v1/rates/cbr/${future}`);
    expect(res.status).toBe(422);
    expect(res.body.errors[0]?.path).toBe('path.date');
    expect((await t.request('GET', '/api/v1/rates/cbr/2024-02-30')).status).toBe(422);
    expect((await t.request('GET', '/api/v1/rates/cbr/yesterday')).status).toBe(422);
    expect((await t.request('GET', '/api/v1/rates/cbr/1991-12-31')).status).toBe(404);
  });
});

describe('GET /api/v1/rates/cbr/series', () => {
  it('answers one currency by effective date, oldest first', async () => {
    const res = await t.request('GET', '/api/v1/rates/cbr/series?symbol=usd&from=2024-03-01&to=2024-03-31');
    expect(res.status).toBe(200);
    expect(cbrSeriesResponse.parse(res.body)).toEqual([
      { date: '2024-03-28', value: '92.2628', nominal: 1, unit_rate: '92.2628' },
      { date: '2024-03-29', value: '92.3660', nominal: 1, unit_rate: '92.366' },
    ]);
  });

  it('answers 422 for a reversed range, a range of any length (it streams), 404 for an unknown currency', async () => {
    const reversed = await t.request('GET', '/api/v1/rates/cbr/series?symbol=USD&from=2024-03-31&to=2024-03-01');
    expect(reversed.status).toBe(422);
    const long = await t.request<unknown[]>('GET', '/api/v1/rates/cbr/series?symbol=USD&from=2022-01-01&to=2024-12-31');
    expect(long.status).toBe(200);
    expect(cbrSeriesResponse.parse(long.body).length).toBeGreaterThan(0);
    expect((await t.request('GET', '/api/v1/rates/cbr/series')).status).toBe(422);
    const unknown = await t.request('GET', '/api/v1/rates/cbr/series?symbol=XYZ&from=2024-03-01&to=2024-03-31');
    expect(unknown.status).toBe(404);
  });
});

describe('GET /api/v1/rates/binance', () => {
  it('answers every symbol’s latest price as decimal strings', async () => {
    const res = await t.request('GET', '/api/v1/rates/binance');
    expect(res.status).toBe(200);
    const body = binancePricesResponse.parse(res.body);
    expect(body).toMatchObject({ count: 3, updated_at: '2024-03-10T02:47:00.000Z' });
    expect(body.prices.BTCUSDT).toBe('70123.45000000');
  });

  it('filters by symbols and answers 404 naming unknown ones', async () => {
    const res = await t.request('GET', '/api/v1/rates/binance?symbols=ethusdt,BTCUSDT');
    expect(binancePricesResponse.parse(res.body).prices).toEqual({
      ETHUSDT: '3512.10000000',
      BTCUSDT: '70123.45000000',
    });
    const unknown = await t.request<{ detail: string }>('GET', '/api/v1/rates/binance?symbols=BTCUSDT,NOPEUSDT');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('NOPEUSDT');
    expect((await t.request('GET', '/api/v1/rates/binance?symbols=BTC-USDT')).status).toBe(422);
  });

  it('serves brotli and gzip variants of the same bytes, each with its own ETag', async () => {
    // enough symbols for the body to be worth compressing
    const many: Record<string, string> = {};
    for (let i = 0; i < 200; i++) many[`ZZ${i}USDT`] = `${i}.123`;
    await upsertBinancePrices(t.database.db, many);
    t.deps.nats.publish(SUBJECTS.ratesBinanceUpdated, JSON.stringify({ ts: new Date().toISOString(), changed: [] }));
    await t.deps.nats.flush();
    let plain = await rawGet(`${t.url}/api/v1/rates/binance`);
    await waitFor(async () => {
      plain = await rawGet(`${t.url}/api/v1/rates/binance`);
      return binancePricesResponse.parse(JSON.parse(plain.body.toString())).count === 203;
    });
    expect(plain.headers['content-encoding']).toBeUndefined();
    const br = await rawGet(`${t.url}/api/v1/rates/binance`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gz = await rawGet(`${t.url}/api/v1/rates/binance`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    const refused = await rawGet(`${t.url}/api/v1/rates/binance`, { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(new Set([plain.headers.etag, br.headers.etag, gz.headers.etag]).size).toBe(3);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    // any variant's tag revalidates
    expect((await rawGet(`${t.url}/api/v1/rates/binance`, { 'if-none-match': gz.headers.etag! })).status).toBe(304);
  });
});

describe('GET /api/v1/rates/binance/{symbol}', () => {
  it('answers one price; 404 naming an unknown symbol; 422 for a malformed one', async () => {
    const res = await t.request('GET', '/api/v1/rates/binance/btcusdt');
    expect(res.status).toBe(200);
    expect(binancePriceResponse.parse(res.body)).toEqual({
      symbol: 'BTCUSDT',
      price: '70123.45000000',
      updated_at: '2024-03-10T02:47:00.000Z',
      status: 'TRADING',
    });
    const unknown = await t.request<{ detail: string }>('GET', '/api/v1/rates/binance/NOPEUSDT');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('unknown Binance symbol NOPEUSDT');
    expect((await t.request('GET', '/api/v1/rates/binance/BTC-USDT')).status).toBe(422);
  });

  it('answers 304 for its ETag', async () => {
    const first = await t.request('GET', '/api/v1/rates/binance/ETHBTC');
    const res = await t.request('GET', '/api/v1/rates/binance/ETHBTC', {
      headers: { 'if-none-match': first.headers.get('etag')! },
    });
    expect(res.status).toBe(304);
  });
});

describe('cached rate reads follow the rates events', () => {
  it('serves the cached price until rates.binance.updated, then the new one at once', async () => {
    await upsertBinancePrices(t.database.db, { SOLUSDT: '140.00000000' });
    t.deps.nats.publish(SUBJECTS.ratesBinanceUpdated, JSON.stringify({ ts: new Date().toISOString(), changed: [] }));
    await waitFor(async () => (await t.request('GET', '/api/v1/rates/binance/SOLUSDT')).status === 200);
    // written behind the api's back: the cached body is still served (it is a cache)
    await upsertBinancePrices(t.database.db, { SOLUSDT: '150.00000000' });
    expect((await t.request('GET', '/api/v1/rates/binance/SOLUSDT')).body).toMatchObject({ price: '140.00000000' });
    // the worker's event: the next read is fresh, with a new ETag
    const before = await t.request('GET', '/api/v1/rates/binance');
    t.deps.nats.publish(
      SUBJECTS.ratesBinanceUpdated,
      JSON.stringify({
        ts: new Date().toISOString(),
        changed: [{ symbol: 'SOLUSDT', price: '150.00000000', previous: '140.00000000' }],
      }),
    );
    await waitFor(async () => {
      const one = await t.request('GET', '/api/v1/rates/binance/SOLUSDT');
      return (one.body as { price: string }).price === '150.00000000';
    });
    const after = await t.request('GET', '/api/v1/rates/binance');
    expect(binancePricesResponse.parse(after.body).prices.SOLUSDT).toBe('150.00000000');
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
  });

  it('serves the cached CBR latest until rates.cbr.updated, then the new day', async () => {
    expect(cbrRatesResponse.parse((await t.request('GET', '/api/v1/rates/cbr/latest')).body).date).toBe('2024-03-29');
    await insertCbrDay(t.database.db, '2024-04-02', [{ code: 'USD', nominal: 1, value: '92.5919' }]);
    expect(cbrRatesResponse.parse((await t.request('GET', '/api/v1/rates/cbr/latest')).body).date).toBe('2024-03-29');
    t.deps.nats.publish(
      SUBJECTS.ratesCbrUpdated,
      JSON.stringify({
        date: '2024-04-02',
        changed: [{ code: 'USD', value: '92.5919', nominal: 1, unit_rate: '92.5919', previous: null }],
      }),
    );
    await waitFor(async () => {
      const res = await t.request('GET', '/api/v1/rates/cbr/latest');
      return cbrRatesResponse.parse(res.body).date === '2024-04-02';
    });
  });

  it('shares bodies through Redis under the event-derived version', async () => {
    const keys = await t.deps.redis.keys(`${t.deps.redisPrefix}cache:binance:*binance:all`);
    expect(keys.length).toBeGreaterThan(0);
    const stored = await t.deps.redis.getBuffer(keys[keys.length - 1]!);
    expect(stored?.toString()).toMatch(/^public, max-age=5\n\{"updated_at"/);
  });
});

describe('GET /api/v1/convert', () => {
  it('converts through RUB: rate to 8 places, result from the unrounded rate to 2 places', async () => {
    const res = await t.request('GET', '/api/v1/convert?from=USD&to=EUR&amount=100&date=2024-03-28');
    expect(res.status).toBe(200);
    // 92.2628 / 99.7057 = 0.925351308902…; × 100 = 92.5351308…
    expect(convertResponse.parse(res.body)).toEqual({
      from: 'USD',
      to: 'EUR',
      amount: '100',
      rate: '0.92535131',
      result: '92.54',
      date: '2024-03-28',
    });
  });

  it('takes RUB on either side and per-unit rates for nominal > 1', async () => {
    const toRub = convertResponse.parse(
      (await t.request('GET', '/api/v1/convert?from=JPY&to=RUB&amount=1000&date=2024-03-29')).body,
    );
    expect(toRub).toMatchObject({ rate: '0.61020000', result: '610.20' });
    const fromRub = convertResponse.parse(
      (await t.request('GET', '/api/v1/convert?from=RUB&to=USD&amount=92.366&date=2024-03-29')).body,
    );
    expect(fromRub).toMatchObject({ rate: '0.01082649', result: '1.00' });
  });

  it('uses the latest rates without a date and returns their effective date', async () => {
    const res = convertResponse.parse((await t.request('GET', '/api/v1/convert?from=USD&to=RUB&amount=2')).body);
    expect(res).toMatchObject({ date: '2024-04-02', result: '185.18' });
  });

  it('answers 404 for a currency without a rate, 422 for bad input', async () => {
    const unknown = await t.request<{ detail: string }>('GET', '/api/v1/convert?from=USD&to=XAU&amount=1');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('XAU');
    for (const q of [
      'from=USD&to=EUR',
      'from=USD&to=EUR&amount=-1',
      'from=USD&to=EUR&amount=1e3',
      'from=US&to=EUR&amount=1',
    ]) {
      expect((await t.request('GET', `/api/v1/convert?${q}`)).status, q).toBe(422);
    }
  });
});

describe('the fast lane for cached reads', () => {
  it('answers with the same headers as the full stack, the request id, and counts the request in /metrics', async () => {
    await upsertBinancePrices(t.database.db, { ADAUSDT: '0.65000000' });
    t.deps.nats.publish(SUBJECTS.ratesBinanceUpdated, JSON.stringify({ ts: new Date().toISOString(), changed: [] }));
    await waitFor(async () => (await t.request('GET', '/api/v1/rates/binance/ADAUSDT')).status === 200);
    const first = await rawGet(`${t.url}/api/v1/rates/binance/ADAUSDT`);
    const second = await rawGet(`${t.url}/api/v1/rates/binance/ADAUSDT`, { 'x-request-id': 'fast-lane-1' });
    expect(second.status).toBe(200);
    expect(second.body.equals(first.body)).toBe(true);
    expect(second.headers['x-request-id']).toBe('fast-lane-1');
    const names = (h: Record<string, unknown>) =>
      Object.keys(h)
        .filter((n) => !['date', 'x-request-id', 'connection', 'keep-alive'].includes(n))
        .sort();
    expect(names(second.headers)).toEqual(names(first.headers));
    expect(second.headers['content-security-policy']).toBe(first.headers['content-security-policy']);
    expect(second.headers['x-content-type-options']).toBe('nosniff');

    const count = async () => {
      const text = (await t.request('GET', '/metrics')).text;
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('http_requests_total{') &&
            l.includes('route="/api/v1/rates/binance/:symbol"') &&
            l.includes('status="200"'),
        );
      return Number(line?.split(' ').pop() ?? 0);
    };
    const before = await count();
    await rawGet(`${t.url}/api/v1/rates/binance/ADAUSDT`);
    await rawGet(`${t.url}/api/v1/rates/binance/ADAUSDT`);
    expect(await count()).toBe(before + 2);
  });

  it('leaves a bad bearer token to the full stack (401), and a query string too', async () => {
    await t.request('GET', '/api/v1/rates/binance');
    const res = await t.request('GET', '/api/v1/rates/binance', { headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
    const filtered = await t.request('GET', '/api/v1/rates/binance?symbols=ETHBTC');
    expect(binancePricesResponse.parse(filtered.body).count).toBe(1);
  });
});
