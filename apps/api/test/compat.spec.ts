import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compatCurrencySchema, taskAccepted } from '@ratewire/contracts';

import type { TestUser } from './harness.ts';
import { listen, rawGet, startRestApi, upsertBinancePrices, type RestEnv } from './rest-support.ts';

let t: RestEnv;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  t = await startRestApi();
  [admin, user] = await Promise.all([t.user('admin'), t.user()]);
  await upsertBinancePrices(t.database.db, { BTCUSDT: '70123.45000000', ETHBTC: '0.05692000' });
});
afterAll(async () => {
  await t?.close();
});

describe('Currency-API service compatible: /currencies', () => {
  it('creates {currency, rate} (admin, 201) and lists that service’s shape with the rate as an exact JSON number', async () => {
    const sub = await listen(t.deps.nats, 'currencies.created');
    const res = await t.request('POST', '/currencies', {
      body: { currency: 'usd', rate: '92.2628' },
      headers: admin.auth,
    });
    expect(res.status).toBe(201);
    const c = compatCurrencySchema.parse(res.body);
    expect(c).toMatchObject({ currency: 'USD', rate: 92.2628 });
    expect(res.text).toContain('"rate":92.2628,');
    expect((await sub.next).data).toMatchObject({ code: 'USD', source: 'api' });

    await t.request('POST', '/currencies', {
      body: { currency: 'XTS', rate: '0.10000000000000000001' },
      headers: admin.auth,
    });
    const list = await t.request<unknown[]>('GET', '/currencies');
    expect(list.status).toBe(200);
    expect(list.body.map((x) => compatCurrencySchema.parse(x).currency)).toEqual(['USD', 'XTS']);
    // digits a double cannot hold survive, because the number is written from the decimal text
    expect(list.text).toContain('"rate":0.10000000000000000001,');
    expect(Object.keys(list.body[0] as object).sort()).toEqual(['created_at', 'currency', 'id', 'rate', 'updated_at']);
  });

  it('reads, patches and deletes by id in that service’s shape; 404 unknown; 409 duplicate', async () => {
    const created = compatCurrencySchema.parse(
      (await t.request('POST', '/currencies', { body: { currency: 'CHF', rate: 100 }, headers: admin.auth })).body,
    );
    expect((await t.request('GET', `/currencies/${created.id}`)).body).toMatchObject({ currency: 'CHF', rate: 100 });
    const patched = await t.request('PATCH', `/currencies/${created.id}`, {
      body: { rate: 101.25 },
      headers: admin.auth,
    });
    expect(patched.status).toBe(200);
    expect(patched.text).toContain('"rate":101.25');
    const dup = await t.request('POST', '/currencies', { body: { currency: 'CHF', rate: 1 }, headers: admin.auth });
    expect(dup.status).toBe(409);
    expect((await t.request('DELETE', `/currencies/${created.id}`, { headers: admin.auth })).status).toBe(204);
    expect((await t.request('GET', `/currencies/${created.id}`)).status).toBe(404);
    expect(
      (await t.request('PATCH', `/currencies/${created.id}`, { body: { rate: 1 }, headers: admin.auth })).status,
    ).toBe(404);
  });

  it('shows a write in the cached list right away', async () => {
    const before = await t.request<{ currency: string }[]>('GET', '/currencies');
    await t.request('POST', '/currencies', { body: { currency: 'GBP', rate: '116.5' }, headers: admin.auth });
    const after = await t.request<{ currency: string }[]>('GET', '/currencies', {
      headers: { 'if-none-match': before.headers.get('etag')! },
    });
    expect(after.status).toBe(200);
    expect(after.body.map((c) => c.currency)).toContain('GBP');
  });

  it('answers 401 anonymous and 403 to a user for every write; 422 for a bad body', async () => {
    const c = compatCurrencySchema.parse(
      (await t.request('POST', '/currencies', { body: { currency: 'SEK', rate: 9 }, headers: admin.auth })).body,
    );
    for (const [method, path, body] of [
      ['POST', '/currencies', { currency: 'NOK', rate: 8 }],
      ['PATCH', `/currencies/${c.id}`, { rate: 8 }],
      ['DELETE', `/currencies/${c.id}`, undefined],
    ] as const) {
      expect((await t.request(method, path, { body })).status, `${method} anonymous`).toBe(401);
      expect((await t.request(method, path, { body, headers: user.auth })).status, `${method} user`).toBe(403);
    }
    expect((await t.request('GET', `/currencies/${c.id}`)).body).toMatchObject({ rate: 9 });
    const bad = await t.request('POST', '/currencies', { body: { currency: 'usdx', rate: 'x' }, headers: admin.auth });
    expect(bad.status).toBe(422);
  });
});

describe('async exchange service compatible: POST /api/exchange_sync', () => {
  it('answers {"status":"completed", breakdown} with subtotal_rub as exact JSON numbers', async () => {
    const res = await t.request('POST', '/api/exchange_sync', {
      body: {
        exchange_rate: 75.5,
        bills: [
          { denomination_id: 1, denomination: 10, count: 5 },
          { denomination_id: 2, denomination: 20, count: 3 },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      '{"status":"completed","breakdown":[{"denomination_id":1,"subtotal_rub":3775.00},{"denomination_id":2,"subtotal_rub":4530.00}]}',
    );
  });

  it('answers 400 problem+json naming the field for a bad payload', async () => {
    const res = await t.request<{ status: number; errors: { path: string }[] }>('POST', '/api/exchange_sync', {
      body: { exchange_rate: -1, bills: [{ denomination_id: 1, denomination: 10, count: 0 }] },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(res.body.errors.map((e) => e.path).sort()).toEqual(['body.bills.0.count', 'body.exchange_rate']);
    expect((await t.request('POST', '/api/exchange_sync', { body: { bills: [] } })).status).toBe(400);
  });
});

describe('Binance rates service compatible: /symbols and /ping', () => {
  it('lists every symbol as [{symbol, price}] with string prices, with an ETag', async () => {
    const res = await t.request('GET', '/symbols/get/all');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { symbol: 'BTCUSDT', price: '70123.45000000' },
      { symbol: 'ETHBTC', price: '0.05692000' },
    ]);
    const again = await rawGet(`${t.url}/symbols/get/all`, { 'if-none-match': res.headers.get('etag')! });
    expect(again.status).toBe(304);
  });

  it('answers one symbol, or 404 naming an unknown one', async () => {
    expect((await t.request('GET', '/symbols/get/ETHBTC')).body).toEqual({ symbol: 'ETHBTC', price: '0.05692000' });
    const unknown = await t.request<{ detail: string }>('GET', '/symbols/get/NOPE');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('NOPE');
    expect((await t.request('GET', '/symbols/get/NO-PE')).status).toBe(422);
  });

  it('answers /ping', async () => {
    const res = await t.request('GET', '/ping');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('POST /tasks/run', () => {
  it('queues a rates refresh for an admin (202); 401 anonymous; 403 user', async () => {
    const res = await t.request('POST', '/tasks/run', { headers: admin.auth });
    expect(res.status).toBe(202);
    const { task_id } = taskAccepted.parse(res.body);
    const again = await t.request('POST', '/api/v1/tasks/rates-refresh', { headers: admin.auth });
    expect(taskAccepted.parse(again.body).task_id).toBe(task_id);
    expect((await t.request('POST', '/tasks/run')).status).toBe(401);
    expect((await t.request('POST', '/tasks/run', { headers: user.auth })).status).toBe(403);
  });
});

describe('GET /openapi.json', () => {
  type Op = { tags: string[]; responses: Record<string, unknown>; security?: unknown };
  it('lists every REST route with its error responses, and the aliases under compat', async () => {
    const doc = (await t.request<{ paths: Record<string, Record<string, Op>> }>('GET', '/openapi.json')).body;
    const expected: [string, string, string[]][] = [
      ['post', '/api/v1/auth/register', ['201', '409', '422']],
      ['post', '/api/v1/auth/login', ['200', '401', '422', '429']],
      ['get', '/api/v1/auth/me', ['200', '401']],
      ['get', '/api/v1/currencies', ['200', '422']],
      ['post', '/api/v1/currencies', ['201', '401', '403', '409', '422']],
      ['get', '/api/v1/currencies/{id}', ['200', '404', '422']],
      ['patch', '/api/v1/currencies/{id}', ['200', '401', '403', '404', '409', '422']],
      ['delete', '/api/v1/currencies/{id}', ['204', '401', '403', '404', '422']],
      ['get', '/api/v1/rates/cbr/latest', ['200', '304', '404', '422']],
      ['get', '/api/v1/rates/cbr/{date}', ['200', '304', '404', '422', '502', '503', '504']],
      ['get', '/api/v1/rates/cbr/series', ['200', '404', '422']],
      ['get', '/api/v1/rates/binance', ['200', '304', '404', '422']],
      ['get', '/api/v1/rates/binance/{symbol}', ['200', '304', '404', '422']],
      ['get', '/api/v1/convert', ['200', '404', '422']],
      ['post', '/api/v1/exchange/calculate', ['200', '422']],
      ['post', '/api/v1/tasks/rates-refresh', ['202', '401', '403']],
      ['get', '/api/v1/tasks/{id}', ['200', '401', '403', '404', '422']],
    ];
    for (const [method, path, statuses] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      for (const s of statuses) expect(op!.responses[s], `${method} ${path} ${s}`).toBeDefined();
    }
    expect(doc.paths['/api/v1/currencies']?.post?.security).toEqual([{ bearerAuth: [] }]);
    const compat: [string, string][] = [
      ['get', '/currencies'],
      ['post', '/currencies'],
      ['get', '/currencies/{id}'],
      ['patch', '/currencies/{id}'],
      ['delete', '/currencies/{id}'],
      ['post', '/tasks/run'],
      ['post', '/api/exchange_sync'],
      ['get', '/symbols/get/all'],
      ['get', '/symbols/get/{symbol}'],
      ['get', '/ping'],
    ];
    for (const [method, path] of compat)
      expect(doc.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(['compat']);
    expect(doc.paths['/api/exchange_sync']?.post?.responses['400']).toBeDefined();
  });
});
