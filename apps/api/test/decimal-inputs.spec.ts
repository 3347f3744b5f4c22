// Decimal inputs: every route that takes a rate, a denomination or an amount accepts a decimal
// string or a JSON number only when its exact text fits the limits (30 digits before the point, 20
// after), refuses anything else without writing a row, and a job the api accepts is one the worker
// computes, exactly.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { waitFor, type AppProcess } from '@ratewire/testkit';

import { get, spawnWorker, startJobsEnv, WORKER_READY, type JobsEnv } from './jobs-harness.ts';

let env: JobsEnv;
let worker: AppProcess;
let admin: { id: string; token: string };
let user: { id: string; token: string };

beforeAll(async () => {
  env = await startJobsEnv();
  [admin, user] = await Promise.all([env.user('admin'), env.user()]);
  worker = spawnWorker(env);
  await worker.waitForLine(WORKER_READY, 30_000);
});
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await env?.close();
});

/** Sends `body` as it is written: the JSON number text reaches the api byte for byte. */
async function send(method: string, path: string, token: string | null, body: string) {
  const res = await fetch(`${env.api.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function counts() {
  const { rows } = await sql<{ currencies: string; jobs: string; outbox: string }>`
    select (select count(*) from currencies) as currencies, (select count(*) from exchange_jobs) as jobs,
           (select count(*) from outbox) as outbox`.execute(env.api.database.db);
  return rows[0];
}

const INT30 = '123456789012345678901234567890';
const FRAC20 = '12345678901234567891';

/** Written as JSON number text or as JSON strings; none fits the limits. */
const OUT_OF_LIMITS = [
  '1e308',
  '1e-30',
  '-1e308',
  '1e31',
  `1${'0'.repeat(30)}`,
  `0.${'0'.repeat(20)}1`,
  '1.5e-21',
  `1${'0'.repeat(400)}`,
  '1e999999999',
  `"1${'0'.repeat(30)}"`,
  `"0.${'0'.repeat(20)}1"`,
  `"${'9'.repeat(100_000)}"`,
  '"1e5"',
];
const NOT_POSITIVE = ['-1', '"-0.5"', '0', '-0.0', '"-1e-3"'];

const bills = (denomination: string) => `[{"denomination_id":1,"denomination":${denomination},"count":2}]`;

interface Route {
  name: string;
  method: string;
  path: string;
  status: number;
  token: () => string;
  body: (value: string) => string;
  field: string;
}

const routes: Route[] = [
  {
    name: 'POST /api/v1/currencies rate',
    method: 'POST',
    path: '/api/v1/currencies',
    status: 422,
    token: () => admin.token,
    body: (v) => `{"code":"QQA","rate":${v}}`,
    field: 'body.rate',
  },
  {
    name: 'POST /currencies (compat) rate',
    method: 'POST',
    path: '/currencies',
    status: 422,
    token: () => admin.token,
    body: (v) => `{"currency":"QQB","rate":${v}}`,
    field: 'body.rate',
  },
  {
    name: 'POST /api/v1/exchange/calculate exchange_rate',
    method: 'POST',
    path: '/api/v1/exchange/calculate',
    status: 422,
    token: () => user.token,
    body: (v) => `{"exchange_rate":${v},"bills":${bills('1')}}`,
    field: 'body.exchange_rate',
  },
  {
    name: 'POST /api/exchange_sync (compat) denomination',
    method: 'POST',
    path: '/api/exchange_sync',
    status: 400,
    token: () => user.token,
    body: (v) => `{"exchange_rate":1,"bills":${bills(v)}}`,
    field: 'body.bills.0.denomination',
  },
  {
    name: 'POST /api/v1/exchange-jobs exchange_rate',
    method: 'POST',
    path: '/api/v1/exchange-jobs',
    status: 422,
    token: () => user.token,
    body: (v) => `{"request_id":"limits-rate","exchange_rate":${v},"bills":${bills('1')}}`,
    field: 'body.exchange_rate',
  },
  {
    name: 'POST /api/v1/exchange-jobs denomination',
    method: 'POST',
    path: '/api/v1/exchange-jobs',
    status: 422,
    token: () => user.token,
    body: (v) => `{"request_id":"limits-denomination","exchange_rate":"75.5","bills":${bills(v)}}`,
    field: 'body.bills.0.denomination',
  },
  {
    name: 'POST /api/exchange_async (compat) exchange_rate',
    method: 'POST',
    path: '/api/exchange_async',
    status: 400,
    token: () => user.token,
    body: (v) => `{"request_id":"limits-async","exchange_rate":${v},"bills":${bills('1')}}`,
    field: 'body.exchange_rate',
  },
];

describe('decimal inputs out of the limits', () => {
  it.each(routes)('$name: refused naming the field, and nothing is written', async (route) => {
    const before = await counts();
    for (const value of [...OUT_OF_LIMITS, ...NOT_POSITIVE]) {
      const res = await send(route.method, route.path, route.token(), route.body(value));
      expect(res.status, `${value.slice(0, 40)}: ${res.text.slice(0, 300)}`).toBe(route.status);
      const paths = (res.body.errors as { path: string }[] | undefined)?.map((e) => e.path);
      expect(paths, value.slice(0, 40)).toContain(route.field);
    }
    expect(await counts()).toEqual(before);
  });

  it('GET /api/v1/convert refuses an amount out of the limits or negative', async () => {
    for (const amount of [`1${'0'.repeat(30)}`, `0.${'0'.repeat(20)}1`, '1e5', '-1']) {
      const res = await fetch(`${env.api.url}/api/v1/convert?from=RUB&to=RUB&amount=${amount}`);
      expect(res.status, amount).toBe(422);
    }
  });
});

describe('decimal inputs within the limits', () => {
  it('keeps a JSON number a double cannot hold digit for digit', async () => {
    const res = await send('POST', '/api/v1/currencies', admin.token, `{"code":"QQC","rate":0.${FRAC20}}`);
    expect(res.status, res.text).toBe(201);
    expect(res.body.rate).toBe(`0.${FRAC20}`);
    const widest = await send('POST', '/api/v1/currencies', admin.token, `{"code":"QQD","rate":${INT30}.${FRAC20}}`);
    expect(widest.status, widest.text).toBe(201);
    expect(widest.body.rate).toBe(`${INT30}.${FRAC20}`);
    const rows = await env.api.database.db
      .selectFrom('currencies')
      .select(['code', 'rate'])
      .where('code', 'in', ['QQC', 'QQD'])
      .orderBy('code')
      .execute();
    expect(rows).toEqual([
      { code: 'QQC', rate: `0.${FRAC20}` },
      { code: 'QQD', rate: `${INT30}.${FRAC20}` },
    ]);
  });

  it('reads exponents exactly: 1.5e2 is 150 and 2.5E-19 is 0.00000000000000000025', async () => {
    const res = await send(
      'POST',
      '/api/v1/exchange/calculate',
      null,
      `{"exchange_rate":1.5e2,"bills":[{"denomination_id":1,"denomination":4E-2,"count":3}]}`,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ rate: '150', total_rub: '18.00' });
    const tiny = await send('POST', '/api/v1/currencies', admin.token, '{"code":"QQE","rate":2.5E-19}');
    expect(tiny.status, tiny.text).toBe(201);
    expect(tiny.body.rate).toBe('0.00000000000000000025');
  });
});

/** denomination × count × rate, half-up to 2 places, in integers only. */
function subtotal(denomination: string, count: number, rate: string): string {
  const scaled = (v: string): [bigint, number] => {
    const [int = '0', frac = ''] = v.split('.');
    return [BigInt(int + frac), frac.length];
  };
  const [d, ds] = scaled(denomination);
  const [r, rs] = scaled(rate);
  const places = ds + rs;
  const product = d * BigInt(count) * r; // scaled by 10^places
  const cents = places >= 2 ? (product * 10n + 5n * 10n ** BigInt(places - 2)) / 10n ** BigInt(places - 1) : product;
  const text = (places >= 2 ? cents : cents * 10n ** BigInt(2 - places)).toString().padStart(3, '0');
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
}

describe('exchange jobs: the api and the worker agree', () => {
  it('a job at the limits, given as JSON numbers and strings, is computed exactly by the worker', async () => {
    const rate = `${INT30}.${FRAC20}`;
    const denominations = [`${'9'.repeat(30)}.${'9'.repeat(20)}`, `0.${FRAC20}`, '0.00000000000000000001'];
    const count = Number.MAX_SAFE_INTEGER;
    const body =
      `{"request_id":"limits-agree","exchange_rate":${rate},"bills":[` +
      `{"denomination_id":1,"denomination":${denominations[0]},"count":${count}},` +
      `{"denomination_id":2,"denomination":"${denominations[1]}","count":${count}},` +
      `{"denomination_id":3,"denomination":${denominations[2]},"count":1}]}`;
    const res = await send('POST', '/api/v1/exchange-jobs', user.token, body);
    expect(res.status, res.text).toBe(202);
    const id = String(res.body.job_id);
    const job = await waitFor(
      async () => {
        const r = await get(`${env.api.url}/api/v1/exchange-jobs/${id}`, user.token);
        return r.body.status === 'done' || r.body.status === 'failed' ? r.body : undefined;
      },
      { timeoutMs: 30_000, what: 'the job result' },
    );
    expect(job.error).toBeNull();
    expect(job.status).toBe('done');
    expect(job.rate).toBe(rate);
    const expected = [
      subtotal(denominations[0]!, count, rate),
      subtotal(denominations[1]!, count, rate),
      subtotal(denominations[2]!, 1, rate),
    ];
    expect(job.breakdown).toEqual(expected.map((s, i) => ({ denomination_id: i + 1, subtotal_rub: s })));
    const total = expected.reduce((sum, s) => sum + BigInt(s.replace('.', '')), 0n).toString();
    expect(job.total_rub).toBe(`${total.slice(0, -2)}.${total.slice(-2)}`);
  });
});
