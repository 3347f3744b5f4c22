import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exchangeCalculateResponse } from '@ratewire/contracts';

import { insertCbrDay, startRestApi, type RestEnv } from './rest-support.ts';

let t: RestEnv;
beforeAll(async () => {
  t = await startRestApi();
  await insertCbrDay(t.database.db, '2024-03-28', [{ code: 'USD', nominal: 1, value: '92.2628' }]);
  await insertCbrDay(t.database.db, '2024-03-29', [
    { code: 'USD', nominal: 1, value: '92.3660' },
    { code: 'JPY', nominal: 100, value: '61.0200' },
  ]);
});
afterAll(async () => {
  await t?.close();
});

const calculate = (body: unknown) =>
  t.request<Record<string, unknown> & { errors?: { path: string; message: string }[] }>(
    'POST',
    '/api/v1/exchange/calculate',
    { body },
  );

describe('POST /api/v1/exchange/calculate', () => {
  it('computes the method guide’s example at once: rate 75.5, bills 10×5 and 20×3', async () => {
    const res = await calculate({
      exchange_rate: 75.5,
      bills: [
        { denomination_id: 1, denomination: 10, count: 5 },
        { denomination_id: 2, denomination: 20, count: 3 },
      ],
    });
    expect(res.status).toBe(200);
    expect(exchangeCalculateResponse.parse(res.body)).toEqual({
      rate: '75.5',
      breakdown: [
        { denomination_id: 1, subtotal_rub: '3775.00' },
        { denomination_id: 2, subtotal_rub: '4530.00' },
      ],
      total_rub: '8305.00',
    });
  });

  it('takes decimal strings and stays exact', async () => {
    const res = await calculate({
      exchange_rate: '0.1',
      bills: [{ denomination_id: 3, denomination: '0.3', count: 3 }],
    });
    expect(res.body).toMatchObject({ breakdown: [{ denomination_id: 3, subtotal_rub: '0.09' }], total_rub: '0.09' });
  });

  it('uses the newest CBR unit rate for `currency` and records it with its date', async () => {
    const res = await calculate({ currency: 'jpy', bills: [{ denomination_id: 1, denomination: 1000, count: 2 }] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      rate: '0.6102',
      currency: 'JPY',
      date: '2024-03-29',
      breakdown: [{ denomination_id: 1, subtotal_rub: '1220.40' }],
      total_rub: '1220.40',
    });
  });

  it('answers 422 for a currency without a CBR rate', async () => {
    const res = await calculate({ currency: 'XAU', bills: [{ denomination_id: 1, denomination: 1, count: 1 }] });
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.path).toBe('body.currency');
  });

  it('answers 422 unless exactly one of exchange_rate and currency is given', async () => {
    const bills = [{ denomination_id: 1, denomination: 1, count: 1 }];
    for (const body of [{ bills }, { bills, exchange_rate: 1, currency: 'USD' }]) {
      const res = await calculate(body);
      expect(res.status).toBe(422);
      expect(res.body.errors?.[0]?.path).toBe('body.exchange_rate');
    }
  });

  it('answers 422 naming the field for non-positive, non-finite or malformed numbers', async () => {
    const cases: [unknown, string][] = [
      [{ exchange_rate: 0, bills: [{ denomination_id: 1, denomination: 1, count: 1 }] }, 'body.exchange_rate'],
      [{ exchange_rate: '-1', bills: [{ denomination_id: 1, denomination: 1, count: 1 }] }, 'body.exchange_rate'],
      [{ exchange_rate: 'NaN', bills: [{ denomination_id: 1, denomination: 1, count: 1 }] }, 'body.exchange_rate'],
      [{ exchange_rate: '1e309', bills: [{ denomination_id: 1, denomination: 1, count: 1 }] }, 'body.exchange_rate'],
      [{ exchange_rate: 1, bills: [{ denomination_id: 1, denomination: -5, count: 1 }] }, 'body.bills.0.denomination'],
      [
        { exchange_rate: 1, bills: [{ denomination_id: 1, denomination: 'Infinity', count: 1 }] },
        'body.bills.0.denomination',
      ],
      [{ exchange_rate: 1, bills: [{ denomination_id: 1, denomination: 5, count: 0 }] }, 'body.bills.0.count'],
      [{ exchange_rate: 1, bills: [{ denomination_id: 1, denomination: 5, count: 1.5 }] }, 'body.bills.0.count'],
      [
        { exchange_rate: 1, bills: [{ denomination_id: 'a', denomination: 5, count: 1 }] },
        'body.bills.0.denomination_id',
      ],
      [{ exchange_rate: 1, bills: [] }, 'body.bills'],
      [{ exchange_rate: 1 }, 'body.bills'],
    ];
    for (const [body, path] of cases) {
      const res = await calculate(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(
        res.body.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
  });

  it('accepts 10,000 bills and refuses 10,001', async () => {
    const bills = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ denomination_id: i, denomination: 5, count: 2 }));
    const ok = await calculate({ exchange_rate: '1.5', bills: bills(10_000) });
    expect(ok.status).toBe(200);
    expect(ok.body.total_rub).toBe('150000.00');
    const tooMany = await calculate({ exchange_rate: '1.5', bills: bills(10_001) });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors?.[0]).toMatchObject({ path: 'body.bills', message: 'at most 10000 bills' });
  });

  it('answers 400 problem+json for a body that is not JSON', async () => {
    const res = await t.request('POST', '/api/v1/exchange/calculate', {
      body: '{"exchange_rate": 1,',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
