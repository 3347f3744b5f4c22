// Range reads over a real api and Postgres: ISO weeks across New Year, a month of holidays, forward
// fill from a weekend, fluctuation, cross rates, the history export, Binance OHLC buckets and the
// TRADING filter — each in JSON, CSV and NDJSON, with the past immutable behind a strong ETag.
import { request as httpRequest, type IncomingMessage } from 'node:http';

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  binanceHistoryResponse,
  binancePricesResponse,
  cbrFluctuationResponse,
  cbrHistoryResponse,
  cbrRatesResponse,
  cbrSeriesResponse,
} from '@ratewire/contracts';
import { waitFor } from '@ratewire/testkit';

import { maxStreamsFor } from '../src/rates/series.service.ts';
import { insertCbrDay, rawGet, startRestApi, upsertBinancePrices, type RestEnv } from './rest-support.ts';

let t: RestEnv;

// A CBR-like calendar around New Year: publications dated Tuesday to Saturday, none over the
// holidays from 4 to 12 January. EUR is published beside USD; JPY is quoted per 100.
const USD: [string, string][] = [
  ['2025-12-25', '78.0000'],
  ['2025-12-26', '78.1000'],
  ['2025-12-27', '78.2000'],
  ['2025-12-30', '78.3000'],
  ['2025-12-31', '78.4001'],
  ['2026-01-03', '78.5004'],
  ['2026-01-13', '79.0000'],
  ['2026-01-14', '79.1000'],
  ['2026-02-03', '80.0000'],
];
const EUR = '90.0000';
const JPY: Record<string, string> = { '2025-12-30': '55.1234', '2025-12-31': '55.1235' };

beforeAll(async () => {
  // a pool of 12: six range reads may stream at once (half the pool)
  t = await startRestApi({}, { poolMax: 12 });
  for (const [date, value] of USD) {
    await insertCbrDay(t.database.db, date, [
      { code: 'USD', nominal: 1, value },
      { code: 'EUR', nominal: 1, value: EUR },
      ...(JPY[date] ? [{ code: 'JPY', nominal: 100, value: JPY[date] }] : []),
    ]);
  }
}, 60_000);
afterAll(() => t?.close());

/**
 * The export's statement as pg_stat_activity shows it; the failure test below ends the backends it
 * matches and sees the answer cut, so a pattern that stopped matching would fail there.
 */
const HISTORY_QUERY = '%from "cbr_rates"%group by "date" order by "date"%';

const get = <T = unknown>(path: string, headers: Record<string, string> = {}) => t.request<T>('GET', path, { headers });
const text = async (path: string, headers: Record<string, string> = {}) => {
  const res = await rawGet(`${t.url}${path}`, headers);
  return { ...res, text: res.body.toString('utf8') };
};

describe('cbr/series group=week|month', () => {
  it('folds a week that crosses New Year into one ISO week (Monday to Sunday), with an exact half-up avg', async () => {
    const res = await get('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-22&to=2026-01-18&group=week');
    expect(res.status).toBe(200);
    expect(cbrSeriesResponse.parse(res.body)).toEqual([
      {
        period_start: '2025-12-22',
        period_end: '2025-12-28',
        open: '78',
        high: '78.2',
        low: '78',
        close: '78.2',
        // inputs as stored by the test (78, 78.1, 78.2): one place + 4
        avg: '78.10000',
        count: 3,
      },
      {
        period_start: '2025-12-29',
        period_end: '2026-01-04',
        open: '78.3',
        high: '78.5004',
        low: '78.3',
        close: '78.5004',
        // (78.3 + 78.4001 + 78.5004) / 3 = 78.400166666… → half-up at 4 + 4 places
        avg: '78.40016667',
        count: 3,
      },
      {
        period_start: '2026-01-12',
        period_end: '2026-01-18',
        open: '79',
        high: '79.1',
        low: '79',
        close: '79.1',
        avg: '79.05000',
        count: 2,
      },
    ]);
  });

  it('counts only the effective dates of a month with holidays', async () => {
    const res = await get('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-01&to=2026-02-28&group=month');
    const points = cbrSeriesResponse.parse(res.body) as { period_start: string; count: number; avg: string }[];
    expect(points.map((p) => [p.period_start, p.count, p.avg])).toEqual([
      // (78 + 78.1 + 78.2 + 78.3 + 78.4001) / 5
      ['2025-12-01', 5, '78.20002000'],
      // January: the 3rd, then nothing until the 13th
      ['2026-01-01', 3, '78.86680000'],
      ['2026-02-01', 1, '80.0000'],
    ]);
  });

  it('keeps a small unit rate exact (JPY per 100 → unit rates of 6 places, avg of 10)', async () => {
    const res = await get('/api/v1/rates/cbr/series?symbol=JPY&from=2025-12-29&to=2026-01-04&group=week');
    expect(cbrSeriesResponse.parse(res.body)).toEqual([
      {
        period_start: '2025-12-29',
        period_end: '2026-01-04',
        open: '0.551234',
        high: '0.551235',
        low: '0.551234',
        close: '0.551235',
        avg: '0.5512345000',
        count: 2,
      },
    ]);
  });

  it('refuses fill on grouped series and an unknown group', async () => {
    expect((await get('/api/v1/rates/cbr/series?symbol=USD&group=week&fill=forward')).status).toBe(422);
    expect((await get('/api/v1/rates/cbr/series?symbol=USD&group=year')).status).toBe(422);
    expect((await get('/api/v1/rates/cbr/series?symbol=RUB')).status).toBe(422);
  });
});

describe('cbr/series fill=forward', () => {
  it('opens a range that starts on a weekend with the rate published before it, each filled day carried', async () => {
    const res = await get('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-28&to=2026-01-01&fill=forward');
    expect(res.status).toBe(200);
    expect(cbrSeriesResponse.parse(res.body)).toEqual([
      {
        date: '2025-12-28',
        value: '78.2000',
        nominal: 1,
        unit_rate: '78.2',
        carried: true,
        effective_date: '2025-12-27',
      },
      {
        date: '2025-12-29',
        value: '78.2000',
        nominal: 1,
        unit_rate: '78.2',
        carried: true,
        effective_date: '2025-12-27',
      },
      {
        date: '2025-12-30',
        value: '78.3000',
        nominal: 1,
        unit_rate: '78.3',
        carried: false,
        effective_date: '2025-12-30',
      },
      {
        date: '2025-12-31',
        value: '78.4001',
        nominal: 1,
        unit_rate: '78.4001',
        carried: false,
        effective_date: '2025-12-31',
      },
      {
        date: '2026-01-01',
        value: '78.4001',
        nominal: 1,
        unit_rate: '78.4001',
        carried: true,
        effective_date: '2025-12-31',
      },
    ]);
  });

  it('without fill, a weekend start gives the first publication inside the range', async () => {
    const res = await get<{ date: string }[]>('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-28&to=2026-01-01');
    expect(res.body.map((p) => p.date)).toEqual(['2025-12-30', '2025-12-31']);
  });

  it('fills the holidays: every calendar day of January up to the next publication', async () => {
    const res = await get<{ date: string; carried: boolean; effective_date: string }[]>(
      '/api/v1/rates/cbr/series?symbol=USD&from=2026-01-01&to=2026-01-31&fill=forward',
    );
    expect(res.body).toHaveLength(31);
    expect(res.body.filter((p) => !p.carried).map((p) => p.date)).toEqual(['2026-01-03', '2026-01-13', '2026-01-14']);
    expect(res.body.find((p) => p.date === '2026-01-12')?.effective_date).toBe('2026-01-03');
  });
});

describe('base= cross rates through RUB', () => {
  it('expresses latest and by-date reads in the base, RUB listed, the base itself 1', async () => {
    const latest = cbrRatesResponse.parse((await get('/api/v1/rates/cbr/latest?base=USD')).body);
    expect(latest.base).toBe('USD');
    expect(latest.date).toBe('2026-02-03');
    expect(latest.rates.USD).toEqual({ value: '1.00000000', nominal: 1, unit_rate: '1.00000000' });
    // 1 / 80 and 90 / 80
    expect(latest.rates.RUB).toEqual({ value: '0.01250000', nominal: 1, unit_rate: '0.01250000' });
    expect(latest.rates.EUR?.unit_rate).toBe('1.12500000');
    const day = cbrRatesResponse.parse((await get('/api/v1/rates/cbr/2025-12-31?base=EUR&symbols=USD,RUB')).body);
    expect(day.rates).toEqual({
      USD: { value: '0.87111222', nominal: 1, unit_rate: '0.87111222' },
      RUB: { value: '0.01111111', nominal: 1, unit_rate: '0.01111111' },
    });
    expect((await get('/api/v1/rates/cbr/latest?base=XYZ')).status).toBe(404);
  });

  it('gives series and fluctuation in the base; the same currency is 1', async () => {
    const series = await get('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-30&to=2025-12-31&base=EUR');
    expect(cbrSeriesResponse.parse(series.body)).toEqual([
      { date: '2025-12-30', value: '0.87000000', nominal: 1, unit_rate: '0.87000000' },
      { date: '2025-12-31', value: '0.87111222', nominal: 1, unit_rate: '0.87111222' },
    ]);
    const same = await get<{ unit_rate: string }[]>(
      '/api/v1/rates/cbr/series?symbol=EUR&from=2025-12-30&to=2025-12-31&base=EUR',
    );
    expect(same.body.map((p) => p.unit_rate)).toEqual(['1.00000000', '1.00000000']);
    const fl = cbrFluctuationResponse.parse(
      (await get('/api/v1/rates/cbr/fluctuation?from=2025-12-30&to=2025-12-31&symbols=USD,EUR&base=EUR')).body,
    );
    expect(fl.base).toBe('EUR');
    expect(fl.rates.EUR).toMatchObject({ start_rate: '1.00000000', end_rate: '1.00000000', change: '0' });
    expect(fl.rates.USD).toMatchObject({ start_rate: '0.87000000', end_rate: '0.87111222', change: '0.00111222' });
  });
});

describe('cbr/fluctuation', () => {
  it('uses the effective dates in force on from and to, with exact change and a half-up change_pct', async () => {
    const res = await get('/api/v1/rates/cbr/fluctuation?from=2025-12-28&to=2026-01-10&symbols=USD');
    expect(res.status).toBe(200);
    expect(cbrFluctuationResponse.parse(res.body)).toEqual({
      from: '2025-12-27',
      to: '2026-01-03',
      base: 'RUB',
      rates: {
        // 0.3004 / 78.2 × 100 = 0.38414322…
        USD: {
          start_rate: '78.2',
          end_rate: '78.5004',
          change: '0.3004',
          change_pct: '0.3841',
          min: '78.2',
          max: '78.5004',
        },
      },
    });
  });

  it('lists every currency without symbols, and a row per currency in CSV', async () => {
    const all = cbrFluctuationResponse.parse(
      (await get('/api/v1/rates/cbr/fluctuation?from=2026-01-13&to=2026-02-03')).body,
    );
    expect(Object.keys(all.rates)).toEqual(['EUR', 'USD']);
    expect(all.rates.USD).toMatchObject({ change: '1', change_pct: '1.2658', min: '79', max: '80' });
    const csv = await text('/api/v1/rates/cbr/fluctuation?from=2026-01-13&to=2026-02-03&format=csv');
    expect(csv.text.split('\r\n')).toEqual([
      'symbol,from,to,base,start_rate,end_rate,change,change_pct,min,max',
      'EUR,2026-01-13,2026-02-03,RUB,90,90,0,0.0000,90,90',
      'USD,2026-01-13,2026-02-03,RUB,79,80,1,1.2658,79,80',
      '',
    ]);
    const unknown = await get<{ detail: string }>('/api/v1/rates/cbr/fluctuation?symbols=XYZ,USD,QQQ');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('unknown CBR currency symbols XYZ, QQQ');
  });
});

describe('formats', () => {
  const series = '/api/v1/rates/cbr/series?symbol=USD&from=2025-12-25&to=2025-12-27';

  it('answers CSV by Accept: header row, CRLF rows, an attachment with a sensible name', async () => {
    const res = await text(series, { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers['content-disposition']).toBe('attachment; filename="cbr-USD-2025-12-25-2025-12-27.csv"');
    expect(res.headers.vary).toBe('Accept, Accept-Encoding');
    expect(res.text).toBe(
      'date,value,nominal,unit_rate\r\n' +
        '2025-12-25,78.0000,1,78\r\n' +
        '2025-12-26,78.1000,1,78.1\r\n' +
        '2025-12-27,78.2000,1,78.2\r\n',
    );
  });

  it('answers NDJSON by Accept, one JSON object a line, numbers as in JSON', async () => {
    const res = await text(series, { accept: 'application/x-ndjson' });
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = res.text.trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { date: '2025-12-25', value: '78.0000', nominal: 1, unit_rate: '78' },
      { date: '2025-12-26', value: '78.1000', nominal: 1, unit_rate: '78.1' },
      { date: '2025-12-27', value: '78.2000', nominal: 1, unit_rate: '78.2' },
    ]);
  });

  it('lets ?format= win over Accept, honours q-values, and refuses an unknown format', async () => {
    expect((await text(`${series}&format=ndjson`, { accept: 'text/csv' })).headers['content-type']).toMatch(/ndjson/);
    const preferred = await text(series, { accept: 'text/csv;q=0.5, application/json' });
    expect(preferred.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(preferred.text)).toHaveLength(3);
    expect((await get(`${series}&format=xml`)).status).toBe(422);
  });

  it('gives a past range a strong ETag and immutable caching: If-None-Match → 304, per format', async () => {
    const json = await text(series);
    expect(json.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const etag = json.headers.etag!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const csv = await text(series, { accept: 'text/csv' });
    expect(csv.headers.etag).not.toBe(etag);
    const again = await text(series, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // new data in the range changes the tag
    await insertCbrDay(t.database.db, '2025-12-24', [{ code: 'USD', nominal: 1, value: '77.9000' }]);
    const moved = await text('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-24&to=2025-12-27');
    const before = await text('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-24&to=2025-12-27', {
      'if-none-match': moved.headers.etag!,
    });
    expect(before.status).toBe(304);
    await t.database.db.deleteFrom('cbr_rates').where('date', '=', '2025-12-24').execute();
    const after = await text('/api/v1/rates/cbr/series?symbol=USD&from=2025-12-24&to=2025-12-27', {
      'if-none-match': moved.headers.etag!,
    });
    expect(after.status).toBe(200);
  });

  it('does not freeze a range that reaches today', async () => {
    const res = await text('/api/v1/rates/cbr/series?symbol=USD');
    expect(res.headers['cache-control']).toBe('public, max-age=5');
    expect(res.headers.etag).toBeUndefined();
  });

  it('answers HEAD with the headers alone', async () => {
    const head = await new Promise<{ status: number; headers: Record<string, unknown>; bytes: number }>(
      (resolve, reject) => {
        const req = httpRequest(`${t.url}${series}&format=csv`, { method: 'HEAD' }, (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
        });
        req.on('error', reject);
        req.end();
      },
    );
    expect(head.status).toBe(200);
    expect(head.bytes).toBe(0);
    expect(head.headers['content-type']).toMatch(/^text\/csv/);
    expect(head.headers.etag).toBe((await text(`${series}&format=csv`)).headers.etag);
  });

  it('turns list reads into rows: latest CBR rates and Binance prices as CSV', async () => {
    const csv = await text('/api/v1/rates/cbr/latest?format=csv');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="cbr-2026-02-03.csv"');
    expect(csv.text.split('\r\n').slice(0, 3)).toEqual([
      'code,nominal,value,unit_rate,date,base',
      'EUR,1,90.0000,90,2026-02-03,RUB',
      'USD,1,80.0000,80,2026-02-03,RUB',
    ]);
  });
});

describe('cbr/history, the export', () => {
  beforeAll(async () => {
    // sixteen years of three more currencies, every weekday: tens of thousands of rows
    await sql`
      insert into cbr_rates (date, code, num_code, cbr_id, name, nominal, value, unit_rate)
      select d::date, c.code, null, null, c.code, c.nominal, round((10 + extract(doy from d) / 100)::numeric, 4),
             round((10 + extract(doy from d) / 100)::numeric, 4) / c.nominal
      from generate_series(date '1995-01-02', date '2010-12-31', interval '1 day') d,
           (values ('CHF', 1), ('HUF', 100), ('KZT', 10)) as c(code, nominal)
      where extract(isodow from d) < 6
    `.execute(t.database.db);
  }, 60_000);

  it('streams every stored row of a long range, by date then code, matching Postgres', async () => {
    const res = await text('/api/v1/rates/cbr/history?from=1995-01-01&to=2010-12-31&format=csv');
    expect(res.status).toBe(200);
    const lines = res.text.trimEnd().split('\r\n');
    const expected = await sql<{ line: string }>`
      select concat_ws(',', date, code, nominal, value, unit_rate) as line from cbr_rates
      where date between '1995-01-01' and '2010-12-31' order by date, code
    `.execute(t.database.db);
    expect(lines[0]).toBe('date,code,nominal,value,unit_rate');
    expect(lines.length - 1).toBe(expected.rows.length);
    expect(lines.length).toBeGreaterThan(10_000);
    expect(lines.slice(1)).toEqual(expected.rows.map((r) => r.line));
  });

  it('answers JSON as one array and filters by symbols', async () => {
    const res = await get('/api/v1/rates/cbr/history?from=2025-12-30&to=2025-12-31&symbols=JPY,USD');
    expect(cbrHistoryResponse.parse(res.body)).toEqual([
      { date: '2025-12-30', code: 'JPY', nominal: 100, value: '55.1234', unit_rate: '0.551234' },
      { date: '2025-12-30', code: 'USD', nominal: 1, value: '78.3000', unit_rate: '78.3' },
      { date: '2025-12-31', code: 'JPY', nominal: 100, value: '55.1235', unit_rate: '0.551235' },
      { date: '2025-12-31', code: 'USD', nominal: 1, value: '78.4001', unit_rate: '78.4001' },
    ]);
    // NDJSON: the same objects, a line each, across the days Postgres renders as one text each
    const nd = await text('/api/v1/rates/cbr/history?from=2025-12-30&to=2025-12-31&symbols=JPY,USD&format=ndjson');
    expect(nd.text.endsWith('}\n')).toBe(true);
    expect(
      nd.text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(res.body);
    expect((await get('/api/v1/rates/cbr/history?from=2020-01-01&to=2019-01-01')).status).toBe(422);
  });

  it('gives the connection back when a client leaves mid-stream', async () => {
    const url = `${t.url}/api/v1/rates/cbr/history?from=1995-01-01&to=2010-12-31&format=ndjson`;
    for (let i = 0; i < 12; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(url, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve() : reject(err)));
        req.end();
      });
    }
    // no backend is left holding a cursor over the history
    await waitFor(async () => {
      const busy = await sql<{ n: string }>`
        select count(*) as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle' and query like ${HISTORY_QUERY}
      `.execute(t.database.db);
      return busy.rows[0]?.n === '0';
    });
    const after = await get<unknown[]>('/api/v1/rates/cbr/history?from=2025-12-30&to=2025-12-30');
    expect(after.status).toBe(200);
  });
});

describe('cbr/history, slow readers', () => {
  it('gives each of four clients that stop reading for a while the whole export, byte for byte', async () => {
    // thirty years of 34 more currencies: megabytes per answer, more than the sockets hold
    await sql`
      insert into cbr_rates (date, code, num_code, cbr_id, name, nominal, value, unit_rate)
      select d::date, 'Z' || chr(65 + i / 26) || chr(65 + i % 26), null, null, 'z', 1, 10.5, 10.5
      from generate_series(date '1996-01-01', date '2025-12-31', interval '1 day') d, generate_series(0, 33) i
      where extract(isodow from d) between 2 and 6
    `.execute(t.database.db);
    const url = `${t.url}/api/v1/rates/cbr/history?from=1996-01-01&to=2025-12-31&format=csv`;
    const whole = await rawGet(url);
    expect(whole.body.length).toBeGreaterThan(5_000_000);
    const slow = () =>
      new Promise<Buffer>((resolve, reject) => {
        const req = httpRequest(url, { agent: false }, (res) => {
          const parts: Buffer[] = [];
          res.pause();
          setTimeout(() => res.resume(), 500);
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    expect(maxStreamsFor(t.database.pool)).toBeGreaterThanOrEqual(4);
    const bodies = await Promise.all([slow(), slow(), slow(), slow()]);
    for (const body of bodies) expect(body.equals(whole.body)).toBe(true);
  }, 60_000);

  it('streams at most half the pool’s connections of range reads at once; one more gets 503 with Retry-After, and nothing is lost', async () => {
    const limit = maxStreamsFor(t.database.pool);
    expect(limit).toBeGreaterThan(1);
    const url = `${t.url}/api/v1/rates/cbr/history?from=1996-01-01&to=2025-12-31&format=csv`;
    const expected = (await rawGet(url)).body;
    // clients that hold their answers unread: each stream waits on its socket, keeping its cursor
    const held = await Promise.all(
      Array.from(
        { length: limit },
        () =>
          new Promise<{ res: IncomingMessage; body: Promise<Buffer> }>((resolve, reject) => {
            const req = httpRequest(url, { agent: false }, (res) => {
              res.pause();
              const parts: Buffer[] = [];
              const body = new Promise<Buffer>((done) => res.on('end', () => done(Buffer.concat(parts))));
              res.on('data', (c: Buffer) => parts.push(c));
              resolve({ res, body });
            });
            req.on('error', reject);
            req.end();
          }),
      ),
    );
    const refused = await text('/api/v1/rates/cbr/history?from=2025-12-30&to=2025-12-31');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'too_many_streams' });
    // a read that does not stream is not held up
    expect((await get('/api/v1/rates/cbr/latest')).status).toBe(200);
    for (const h of held) h.res.resume();
    for (const body of await Promise.all(held.map((h) => h.body))) expect(body.equals(expected)).toBe(true);
    expect((await text('/api/v1/rates/cbr/history?from=2025-12-30&to=2025-12-31')).status).toBe(200);
  }, 60_000);
});

describe('cbr/history, a failure midway', () => {
  it('cuts the connection when Postgres goes away after the first byte: a client never takes a part for the whole', async () => {
    const url = `${t.url}/api/v1/rates/cbr/history?from=1996-01-01&to=2025-12-31&format=csv`;
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(url, { agent: false }, (res) => {
        res.pause();
        res.on('end', () => resolve('ended'));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
        // the stream's backend is ended under it, then the client reads on
        void sql`
          select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and query like ${HISTORY_QUERY}
        `
          .execute(t.database.db)
          .then(() => res.resume());
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
    expect(outcome).toBe('cut');
    // the api carries on: the pool replaced the connection
    expect((await text('/api/v1/rates/cbr/history?from=2025-12-30&to=2025-12-31&format=csv')).status).toBe(200);
  }, 60_000);
});

describe('Binance: only what trades, and OHLC history', () => {
  beforeAll(async () => {
    await upsertBinancePrices(
      t.database.db,
      { ETHUSDT: '3000.10', BTCUSDT: '70000.00', LUNAUSDT: '0.00010000' },
      new Date('2026-01-05T10:05:00Z'),
      { LUNAUSDT: 'BREAK' },
    );
    await sql`
      insert into binance_price_history (symbol, price, observed_at) values
        ('ETHUSDT', '100.5', '2026-01-05T10:00:10Z'),
        ('ETHUSDT', '101.25', '2026-01-05T10:00:40Z'),
        ('ETHUSDT', '99.75', '2026-01-05T10:01:05Z'),
        ('ETHUSDT', '102', '2026-01-05T10:03:00Z'),
        ('BTCUSDT', '70000', '2026-01-05T10:00:00Z')
    `.execute(t.database.db);
  });

  it('lists TRADING symbols by default; status=all adds the others with their status', async () => {
    const trading = binancePricesResponse.parse((await get('/api/v1/rates/binance')).body);
    expect(Object.keys(trading.prices).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(trading.statuses).toBeUndefined();
    const all = binancePricesResponse.parse((await get('/api/v1/rates/binance?status=all')).body);
    expect(all.count).toBe(3);
    expect(all.statuses).toEqual({ BTCUSDT: 'TRADING', ETHUSDT: 'TRADING', LUNAUSDT: 'BREAK' });
    const one = await get<{ status: string; price: string }>('/api/v1/rates/binance/LUNAUSDT');
    expect(one.body).toMatchObject({ price: '0.00010000', status: 'BREAK' });
    const csv = await text('/api/v1/rates/binance?status=all&format=csv');
    expect(csv.text).toContain('\r\nLUNAUSDT,0.00010000,BREAK\r\n');
  });

  it('keeps the compatible symbol list to what trades, unless asked for all', async () => {
    const list = await get<{ symbol: string }[]>('/symbols/get/all');
    expect(list.body.map((s) => s.symbol).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    const all = await get<{ symbol: string; status: string }[]>('/symbols/get/all?status=all');
    expect(all.body.find((s) => s.symbol === 'LUNAUSDT')?.status).toBe('BREAK');
    expect((await get('/symbols/get/LUNAUSDT')).body).toEqual({
      symbol: 'LUNAUSDT',
      price: '0.00010000',
      status: 'BREAK',
    });
    expect((await get('/symbols/get/ETHUSDT')).body).toEqual({ symbol: 'ETHUSDT', price: '3000.10' });
  });

  it('buckets stored changes into exact OHLC by interval', async () => {
    const range = 'from=2026-01-05T10:00:00Z&to=2026-01-05T11:00:00Z';
    const minute = await get(`/api/v1/rates/binance/ETHUSDT/history?${range}&interval=1m`);
    expect(binanceHistoryResponse.parse(minute.body)).toEqual([
      { t: '2026-01-05T10:00:00Z', open: '100.5', high: '101.25', low: '100.5', close: '101.25', count: 2 },
      { t: '2026-01-05T10:01:00Z', open: '99.75', high: '99.75', low: '99.75', close: '99.75', count: 1 },
      { t: '2026-01-05T10:03:00Z', open: '102', high: '102', low: '102', close: '102', count: 1 },
    ]);
    const five = await text(`/api/v1/rates/binance/ETHUSDT/history?${range}&interval=5m&format=csv`);
    expect(five.text).toBe('t,open,high,low,close,count\r\n2026-01-05T10:00:00Z,100.5,102,99.75,102,4\r\n');
    expect(five.headers['content-disposition']).toBe(
      'attachment; filename="binance-ETHUSDT-5m-2026-01-05-2026-01-05.csv"',
    );
    expect((await get(`/api/v1/rates/binance/NOPEUSDT/history?${range}`)).status).toBe(404);
    expect((await get(`/api/v1/rates/binance/ETHUSDT/history?interval=2m`)).status).toBe(422);
    expect((await get(`/api/v1/rates/binance/ETHUSDT/history?from=yesterday`)).status).toBe(422);
    // an instant needs its zone; a day stands for its 00:00 UTC
    expect((await get(`/api/v1/rates/binance/ETHUSDT/history?from=2026-01-05T10:00:00`)).status).toBe(422);
    const days = await get('/api/v1/rates/binance/ETHUSDT/history?from=2026-01-05&to=2026-01-06&interval=1d');
    expect(binanceHistoryResponse.parse(days.body)).toEqual([
      { t: '2026-01-05T00:00:00Z', open: '100.5', high: '102', low: '99.75', close: '102', count: 4 },
    ]);
  });
});
