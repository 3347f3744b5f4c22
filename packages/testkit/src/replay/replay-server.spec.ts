import { get as httpGet, type IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../process.ts';
import {
  BINANCE_JSON_CONTENT_TYPE,
  CBR_XML_CONTENT_TYPE,
  FIXTURES_DIR,
  emptyValCurs,
  fixturePath,
  parseCbrDate,
  readFixture,
  resolveCbrDailyFixture,
  spliceBytes,
  startReplayServer,
  type ReplayServer,
} from './index.ts';

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const get = (path: string, init?: RequestInit) => fetch(server.url + path, init);
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());
const latin1 = (b: Buffer) => b.toString('latin1');

/** Reads a response with node:http, recording when each piece of the body arrived. */
function getPieces(url: string, stopAfterMs?: number) {
  return new Promise<{ res: IncomingMessage; pieces: { at: number; bytes: Buffer }[]; ended: boolean }>(
    (resolveGet, reject) => {
      const started = Date.now();
      const req = httpGet(url, (res) => {
        const pieces: { at: number; bytes: Buffer }[] = [];
        let timer: NodeJS.Timeout | undefined;
        if (stopAfterMs !== undefined) {
          timer = setTimeout(() => {
            req.destroy();
            resolveGet({ res, pieces, ended: false });
          }, stopAfterMs);
        }
        res.on('data', (b: Buffer) => pieces.push({ at: Date.now() - started, bytes: b }));
        res.on('end', () => {
          clearTimeout(timer);
          resolveGet({ res, pieces, ended: true });
        });
      });
      req.on('error', (err) => {
        if (stopAfterMs === undefined) reject(err);
      });
    },
  );
}

describe('fixtures', () => {
  it('reads the recorded fixtures from inside the repository', () => {
    const expected = resolve(REPO_ROOT, 'packages/testkit/fixtures');
    expect(FIXTURES_DIR).toBe(resolve(expected));
    expect(fixturePath('cbr/XML_daily_2024-11-09.xml')).toBe(resolve(expected, 'cbr/XML_daily_2024-11-09.xml'));
    expect(readFixture('binance/ticker_price_single_nautilus.json').toString('utf8')).toContain('"BTCUSDT"');
  });

  it('names the directory when a fixture is missing', () => {
    expect(() => readFixture('cbr/nope.xml')).toThrow(/fixture not found: .*nope\.xml.*packages\/testkit\/fixtures/);
  });

  it('parses CBR query dates and rejects impossible ones', () => {
    expect(parseCbrDate('10/11/2024')).toBe('2024-11-10');
    expect(parseCbrDate('1.2.2021')).toBe('2021-02-01');
    expect(parseCbrDate('31/02/2024')).toBeUndefined();
    expect(parseCbrDate('2024-11-10')).toBeUndefined();
  });

  it('resolves a date to the newest original fixture on or before it, never to reencoded/', () => {
    expect(resolveCbrDailyFixture('2021-11-24')?.path).toBe('cbr/XML_daily_2021-09-25.xml');
    expect(resolveCbrDailyFixture('2023-03-19', 'eng')?.path).toBe('cbr/XML_daily_eng_2023-03-18.xml');
    expect(resolveCbrDailyFixture('2013-09-25')).toBeUndefined();
  });

  it('splices ASCII into windows-1251 bytes without touching the rest', () => {
    const original = readFixture('cbr/XML_daily_2024-11-09.xml');
    const edited = spliceBytes(original, '<Value>97,8335</Value>', '<Value>1,0</Value>');
    expect(edited.length).toBe(original.length - 4);
    expect(latin1(edited)).toBe(latin1(original).replace('<Value>97,8335</Value>', '<Value>1,0</Value>'));
    expect(() => spliceBytes(original, '<Value>nowhere</Value>', 'x')).toThrow(/not found/);
    expect(() => spliceBytes(original, '<Value>97,8335</Value>', 'Доллар')).toThrow(/U\+00FF/);
  });
});

describe('GET /scripts/XML_daily.asp', () => {
  it('serves the newest recorded answer byte for byte when no date is asked', async () => {
    const res = await get('/scripts/XML_daily.asp');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(CBR_XML_CONTENT_TYPE);
    expect((await bytesOf(res)).equals(readFixture('cbr/XML_daily_2024-11-09.xml'))).toBe(true);
  });

  it.each([
    ['10/11/2024', 'cbr/XML_daily_2024-11-09.xml', 'a Sunday resolves to the Saturday rates'],
    ['12/12/2021', 'cbr/XML_daily_2021-12-11.xml', 'a Sunday resolves to the Saturday rates'],
    ['28/03/2024', 'cbr/XML_daily_2024-03-28.xml', 'a recorded day is served as is'],
    ['27/03/2024', 'cbr/XML_daily_2023-11-02.xml', 'an unrecorded day falls back to the last recorded one'],
    ['26.09.2013', 'cbr/XML_daily_2013-09-26.xml', 'dots are accepted like slashes'],
    ['01/01/2099', 'cbr/XML_daily_2024-11-09.xml', 'a future date gets the latest rates'],
  ])('date_req=%s serves %s (%s)', async (dateReq, fixture) => {
    const res = await get(`/scripts/XML_daily.asp?date_req=${dateReq}`);
    expect(res.status).toBe(200);
    expect((await bytesOf(res)).equals(readFixture(fixture))).toBe(true);
  });

  it('answers a valid ValCurs without rates for a date before the data', async () => {
    const res = await get('/scripts/XML_daily.asp?date_req=01/01/2000');
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toBe(emptyValCurs('2000-01-01'));
    expect(body).toBe(
      '<?xml version="1.0" encoding="windows-1251"?><ValCurs Date="01.01.2000" name="Foreign Currency Market"></ValCurs>',
    );
  });

  it('refuses a date_req that is not dd/mm/yyyy with 400 (catches a poller format bug)', async () => {
    const res = await get('/scripts/XML_daily.asp?date_req=2024-11-10');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/date_req must be dd\/mm\/yyyy/);
  });

  it('treats cbrToday as the latest published day', async () => {
    const past = await startReplayServer({ cbrToday: '2022-03-20' });
    try {
      const now = await fetch(`${past.url}/scripts/XML_daily.asp`);
      expect((await bytesOf(now)).equals(readFixture('cbr/XML_daily_2022-03-15.xml'))).toBe(true);
      const later = await fetch(`${past.url}/scripts/XML_daily.asp?date_req=09/11/2024`);
      expect((await bytesOf(later)).equals(readFixture('cbr/XML_daily_2022-03-15.xml'))).toBe(true);
    } finally {
      await past.close();
    }
  });
});

describe('GET /scripts/XML_daily_eng.asp', () => {
  it.each([
    ['', 'cbr/XML_daily_eng_2023-03-18.xml'],
    ['?date_req=17/03/2023', 'cbr/XML_daily_eng_2023-03-17.xml'],
    ['?date_req=19/03/2023', 'cbr/XML_daily_eng_2023-03-18.xml'],
  ])('%s serves %s', async (query, fixture) => {
    const res = await get(`/scripts/XML_daily_eng.asp${query}`);
    expect((await bytesOf(res)).equals(readFixture(fixture))).toBe(true);
  });

  it('answers an empty ValCurs before the first English fixture (not the Russian ones)', async () => {
    const res = await get('/scripts/XML_daily_eng.asp?date_req=15/03/2023');
    expect(await res.text()).toBe(emptyValCurs('2023-03-15'));
  });
});

describe('GET /scripts/XML_dynamic.asp', () => {
  it('serves the recorded file when the query names it exactly', async () => {
    const res = await get('/scripts/XML_dynamic.asp?date_req1=28/08/2021&date_req2=02/09/2021&VAL_NM_RQ=R01375');
    expect(res.status).toBe(200);
    expect((await bytesOf(res)).equals(readFixture('cbr/XML_dynamic_R01375_2021-08-28_2021-09-02.xml'))).toBe(true);
  });

  it('assembles a range from the recorded daily rates of that currency', async () => {
    const res = await get('/scripts/XML_dynamic.asp?date_req1=01/03/2024&date_req2=10/11/2024&VAL_NM_RQ=R01235');
    const body = await res.text();
    expect(body).toMatch(
      /^<\?xml version="1.0" encoding="windows-1251"\?><ValCurs ID="R01235" DateRange1="01.03.2024"/,
    );
    const records = [...body.matchAll(/<Record Date="([^"]+)" Id="R01235">.*?<Value>([^<]+)<\/Value>/g)];
    expect(records.map((m) => m[1])).toEqual(['28.03.2024', '09.11.2024']);
    expect(records[1]?.[2]).toBe('97,8335');
  });

  it('merges recorded dynamic records inside a wider range', async () => {
    const res = await get('/scripts/XML_dynamic.asp?date_req1=01/10/2021&date_req2=31/10/2021&VAL_NM_RQ=R01375');
    const dates = [...(await res.text()).matchAll(/<Record Date="([^"]+)"/g)].map((m) => m[1]);
    expect(dates).toEqual(['26.10.2021', '27.10.2021']);
  });

  it('answers 400 without the range', async () => {
    expect((await get('/scripts/XML_dynamic.asp?VAL_NM_RQ=R01235')).status).toBe(400);
  });
});

describe('Binance /api/v3', () => {
  const allPrices = JSON.parse(readFixture('binance/ticker_price_gururajo-project-crypto.json').toString('utf8')) as {
    symbol: string;
    price: string;
  }[];
  const priceOf = (symbol: string) => allPrices.find((p) => p.symbol === symbol);

  it('GET /ticker/price serves every symbol byte for byte', async () => {
    const res = await get('/api/v3/ticker/price');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(BINANCE_JSON_CONTENT_TYPE);
    expect((await bytesOf(res)).equals(readFixture('binance/ticker_price_gururajo-project-crypto.json'))).toBe(true);
  });

  it('GET /ticker/price?symbol= answers that one entry', async () => {
    const res = await get('/api/v3/ticker/price?symbol=BTCUSDT');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(priceOf('BTCUSDT'));
    expect(priceOf('BTCUSDT')?.price).toMatch(/^\d+\.\d{8}$/);
  });

  it('GET /ticker/price?symbol= answers 400 -1121 for an unknown symbol', async () => {
    const res = await get('/api/v3/ticker/price?symbol=NOPEUSDT');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: -1121, msg: 'Invalid symbol.' });
  });

  it('GET /ticker/price?symbol= answers 400 -1100 for a lower-case symbol', async () => {
    const res = await get('/api/v3/ticker/price?symbol=btcusdt');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: number }).code).toBe(-1100);
  });

  it('GET /ticker/price?symbols= answers the listed entries in market order', async () => {
    const res = await get(`/api/v3/ticker/price?symbols=${encodeURIComponent('["BTCUSDT","ETHBTC"]')}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([priceOf('ETHBTC'), priceOf('BTCUSDT')]);
  });

  it('GET /ticker/price?symbols= answers 400 -1121 when one symbol is unknown', async () => {
    const res = await get(`/api/v3/ticker/price?symbols=${encodeURIComponent('["BTCUSDT","NOPEUSDT"]')}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: -1121, msg: 'Invalid symbol.' });
  });

  it('GET /ticker/24hr serves the recorded market and one symbol on request', async () => {
    const all = await get('/api/v3/ticker/24hr');
    expect((await bytesOf(all)).equals(readFixture('binance/ticker_24hr_gururajo-project-crypto.json'))).toBe(true);
    const one = (await (await get('/api/v3/ticker/24hr?symbol=ETHBTC')).json()) as Record<string, unknown>;
    expect(one).toMatchObject({ symbol: 'ETHBTC', lastPrice: '0.06269900' });
  });

  it('GET /exchangeInfo serves the trimmed fixture, or the configured one', async () => {
    const res = await get('/api/v3/exchangeInfo');
    expect((await bytesOf(res)).equals(readFixture('binance/exchangeInfo_trimmed_nautilus.json'))).toBe(true);
    const other = await startReplayServer({
      binance: { exchangeInfo: 'binance/exchangeInfo_oiovoyo-go-binance.json' },
    });
    try {
      const full = await fetch(`${other.url}/api/v3/exchangeInfo`);
      expect((await bytesOf(full)).equals(readFixture('binance/exchangeInfo_oiovoyo-go-binance.json'))).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('GET /ping answers {}', async () => {
    const res = await get('/api/v3/ping');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{}');
  });

  it('counts request weight in X-MBX-USED-WEIGHT-1M on every Binance answer, not on CBR ones', async () => {
    const ping = await get('/api/v3/ping');
    expect(ping.headers.get('x-mbx-used-weight-1m')).toBe('1');
    const info = await get('/api/v3/exchangeInfo');
    expect(info.headers.get('x-mbx-used-weight-1m')).toBe('21');
    const bad = await get('/api/v3/ticker/price?symbol=NOPEUSDT');
    expect(bad.headers.get('x-mbx-used-weight-1m')).toBe('23');
    const all = await get('/api/v3/ticker/price');
    expect(all.headers.get('x-mbx-used-weight-1m')).toBe('27');
    expect(server.usedWeight).toBe(27);
    const cbr = await get('/scripts/XML_daily.asp');
    expect(cbr.headers.has('x-mbx-used-weight-1m')).toBe(false);
  });

  it('answers 404 for an unknown path', async () => {
    expect((await get('/api/v3/nope')).status).toBe(404);
    expect((await get('/')).status).toBe(404);
  });
});

describe('scripted responses', () => {
  it('serves them in order, then the feed again (429 then success)', async () => {
    server.respond(
      '/scripts/XML_daily.asp',
      { status: 429, headers: { 'Retry-After': '2' }, body: 'slow down' },
      { useDefault: true },
    );
    const first = await get('/scripts/XML_daily.asp');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(await first.text()).toBe('slow down');
    for (let i = 0; i < 2; i++) {
      const next = await get('/scripts/XML_daily.asp');
      expect(next.status).toBe(200);
      expect((await bytesOf(next)).equals(readFixture('cbr/XML_daily_2024-11-09.xml'))).toBe(true);
    }
  });

  it('repeats the last response', async () => {
    server.respond('/api/v3/ticker/price', { fixture: 'binance/ticker_price_single_nautilus.json' }, { status: 500 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get('/api/v3/ticker/price')).status);
    expect(statuses).toEqual([200, 500, 500]);
  });

  it('lets the override name a header the server sets itself', async () => {
    server.respond('/api/v3/ping', { json: {}, headers: { 'X-MBX-USED-WEIGHT-1M': '1199' } });
    expect((await get('/api/v3/ping')).headers.get('x-mbx-used-weight-1m')).toBe('1199');
  });

  it('matches a script with a query only for requests carrying it', async () => {
    server.respond('/api/v3/ticker/price?symbol=BTCUSDT', { json: { symbol: 'BTCUSDT', price: '1.00000000' } });
    expect(await (await get('/api/v3/ticker/price?symbol=BTCUSDT')).json()).toEqual({
      symbol: 'BTCUSDT',
      price: '1.00000000',
    });
    expect(await (await get('/api/v3/ticker/price?symbol=ETHBTC')).json()).toEqual({
      symbol: 'ETHBTC',
      price: '0.06282900',
    });
  });

  it('calls a handler per request', async () => {
    server.respond('/api/v3/avgPrice', (req) => ({ json: { mins: 5, price: req.query.get('symbol') } }));
    expect(await (await get('/api/v3/avgPrice?symbol=BTCUSDT')).json()).toEqual({ mins: 5, price: 'BTCUSDT' });
  });

  it('logs every request and forgets it on reset()', async () => {
    const before = Date.now();
    await get('/scripts/XML_daily.asp?date_req=10/11/2024');
    await get('/api/v3/ping');
    expect(server.requests).toHaveLength(2);
    const [first] = server.requests;
    expect(first?.method).toBe('GET');
    expect(first?.path).toBe('/scripts/XML_daily.asp');
    expect(first?.query.get('date_req')).toBe('10/11/2024');
    expect(first?.url).toBe('/scripts/XML_daily.asp?date_req=10/11/2024');
    expect(first?.time.getTime()).toBeGreaterThanOrEqual(before);
    server.respond('/api/v3/ping', { status: 503 });
    server.reset();
    expect(server.requests).toHaveLength(0);
    expect(server.usedWeight).toBe(0);
    expect((await get('/api/v3/ping')).status).toBe(200);
  });

  it('refuses a contradictory response at once', () => {
    expect(() => server.respond('/x', { body: 'a', fixture: 'b.xml' })).toThrow(/at most one of fixture, body, json/);
    expect(() => server.respond('/x', { hang: true, trickle: { chunks: 2, intervalMs: 1 } })).toThrow(
      /at most one of hang/,
    );
    expect(() => server.respond('/x')).toThrow(/at least one/);
  });

  it('waits delayMs before answering', async () => {
    server.respond('/api/v3/ping', { json: {}, delayMs: 300 });
    const started = Date.now();
    const res = await get('/api/v3/ping');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(res.status).toBe(200);
  });
});

describe('failure modes', () => {
  it('hang: a client timeout aborts the request', async () => {
    server.respond('/scripts/XML_daily.asp', { hang: true });
    const started = Date.now();
    await expect(get('/scripts/XML_daily.asp', { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(server.requests).toHaveLength(1);
  });

  it('hang: close() ends the hanging connection', async () => {
    const own = await startReplayServer();
    own.respond('/scripts/XML_daily.asp', { hang: true });
    const pending = fetch(`${own.url}/scripts/XML_daily.asp`);
    await expect.poll(() => own.requests.length).toBe(1);
    const started = Date.now();
    await own.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('hang after bytes: headers and the first bytes arrive, then nothing', async () => {
    server.respond('/scripts/XML_daily.asp', { fixture: 'cbr/XML_daily_2024-11-09.xml', hang: { afterBytes: 1000 } });
    const { res, pieces, ended } = await getPieces(`${server.url}/scripts/XML_daily.asp`, 400);
    expect(ended).toBe(false);
    expect(res.headers['content-length']).toBe('7782');
    expect(Buffer.concat(pieces.map((p) => p.bytes)).length).toBe(1000);
  });

  it('trickle: the body arrives in pieces over time and is complete', async () => {
    server.respond('/api/v3/ticker/price', {
      fixture: 'binance/ticker_price_single_nautilus.json',
      trickle: { chunks: 5, intervalMs: 100 },
    });
    const { pieces, ended } = await getPieces(`${server.url}/api/v3/ticker/price`);
    expect(ended).toBe(true);
    expect(pieces.length).toBeGreaterThanOrEqual(4);
    const first = pieces[0]!;
    const last = pieces[pieces.length - 1]!;
    expect(last.at - first.at).toBeGreaterThanOrEqual(350);
    expect(first.bytes.length).toBeLessThan(55);
    expect(
      Buffer.concat(pieces.map((p) => p.bytes)).equals(readFixture('binance/ticker_price_single_nautilus.json')),
    ).toBe(true);
  });

  it('destroy: the body read fails after a partial body', async () => {
    server.respond('/scripts/XML_daily.asp', { fixture: 'cbr/XML_daily_2024-11-09.xml', destroy: true });
    const res = await get('/scripts/XML_daily.asp');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('7782');
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('destroy before headers: the request fails without an answer', async () => {
    server.respond('/api/v3/ticker/price', { destroy: 'before-headers' });
    await expect(get('/api/v3/ticker/price')).rejects.toThrow();
  });
});
