// List reads answer CSV and NDJSON too (Accept or ?format=): currencies, the caller's jobs and API
// keys, each a row per item, through the same registry as the rate reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApi, type TestApi, type TestUser } from './harness.ts';
import { rawGet } from './rest-support.ts';

let t: TestApi;
let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  t = await startTestApi({ API_KEY_RATE_LIMIT: '100000' });
  [admin, user] = await Promise.all([t.user('admin'), t.user()]);
  for (const body of [
    { code: 'QQA', name: 'Quoted, "name"', nominal: 100, rate: '63.8808' },
    { code: 'QQB', name: 'Plain', nominal: 1, rate: '0.12345678901234567891' },
  ]) {
    expect((await t.request('POST', '/api/v1/currencies', { body, headers: admin.auth })).status).toBe(201);
  }
  const job = {
    request_id: 'list-formats-1',
    exchange_rate: '75.5',
    bills: [{ denomination_id: 1, denomination: 10, count: 5 }],
  };
  expect((await t.request('POST', '/api/v1/exchange-jobs', { body: job, headers: user.auth })).status).toBe(202);
  const key = { name: 'reporting, nightly', scopes: ['read', 'jobs'] };
  expect((await t.request('POST', '/api/v1/api-keys', { body: key, headers: user.auth })).status).toBe(201);
}, 60_000);
afterAll(() => t?.close());

const text = async (path: string, headers: Record<string, string> = {}) => {
  const res = await rawGet(`${t.url}${path}`, headers);
  return { ...res, text: res.body.toString('utf8') };
};

describe('list reads as CSV and NDJSON', () => {
  it('gives currencies as CSV rows, quoting a name with a comma and quotes, decimals exact', async () => {
    const res = await text('/api/v1/currencies?limit=1000', { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="currencies.csv"');
    const lines = res.text.split('\r\n');
    expect(lines[0]).toBe('id,code,name,nominal,rate,unit_rate,created_at,updated_at');
    expect(lines.find((l) => l.includes(',QQA,'))).toMatch(/^\d+,QQA,"Quoted, ""name""",100,63\.8808,0\.638808,/);
    expect(lines.find((l) => l.includes(',QQB,'))).toMatch(/^\d+,QQB,Plain,1,0\.12345678901234567891,/);
    // the JSON page is still the cached one
    const json = await t.request<{ items: unknown[] }>('GET', '/api/v1/currencies?limit=1000');
    expect(json.body.items.length).toBe(lines.length - 2);
  });

  it("gives the caller's jobs as NDJSON, one object per line", async () => {
    const res = await text('/api/v1/exchange-jobs?format=ndjson', user.auth);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const rows = res.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'queued', rate: '75.5', total_rub: null });
    expect(Object.keys(rows[0]!)).not.toContain('breakdown');
    // still the caller's alone
    const other = await text('/api/v1/exchange-jobs?format=ndjson', admin.auth);
    expect(other.text).toBe('');
  });

  it('gives API keys as CSV, the scopes as JSON text, never a key', async () => {
    const res = await text('/api/v1/api-keys?format=csv', user.auth);
    const [head, row, end] = res.text.split('\r\n');
    expect(head).toBe('id,name,prefix,scopes,created_at,last_used_at,expires_at,revoked_at');
    expect(row).toMatch(/^[\w-]{36},"reporting, nightly",rw_\w+,"\[""read"",""jobs""\]",/);
    expect(end).toBe('');
    expect((await text('/api/v1/api-keys?format=csv')).status).toBe(401);
  });
});
