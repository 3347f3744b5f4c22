import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { currencyDeletedEvent, currencyEvent, currencyListSchema, currencySchema } from '@ratewire/contracts';

import type { TestUser } from './harness.ts';
import { listen, startRestApi, type RestEnv } from './rest-support.ts';

let t: RestEnv;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  t = await startRestApi();
  [admin, user] = await Promise.all([t.user('admin'), t.user('user')]);
});
afterAll(async () => {
  await t?.close();
});

let codeSeq = 0;
const nextCode = () => {
  const i = codeSeq++;
  return `Q${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`;
};

async function create(body: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/api/v1/currencies', {
    body: { code: nextCode(), rate: '10.5', ...body },
    headers: admin.auth,
  });
  expect(res.status).toBe(201);
  return currencySchema.parse(res.body);
}

describe('POST /api/v1/currencies', () => {
  it('creates a currency (admin) with exact decimals and publishes currencies.created after commit', async () => {
    const code = nextCode();
    const sub = await listen(t.deps.nats, 'currencies.created');
    const res = await t.request('POST', '/api/v1/currencies', {
      body: { code: code.toLowerCase(), name: 'Yen', nominal: 100, rate: 63.8808 },
      headers: admin.auth,
    });
    expect(res.status).toBe(201);
    const c = currencySchema.parse(res.body);
    expect(c).toMatchObject({ code, name: 'Yen', nominal: 100, rate: '63.8808', unit_rate: '0.638808' });
    expect(res.headers.get('location')).toBe(`/api/v1/currencies/${c.id}`);
    const event = await sub.next;
    const payload = currencyEvent.parse(event.data);
    expect(payload).toMatchObject({ id: c.id, code, rate: '63.8808', unit_rate: '0.638808', source: 'api' });
    // committed before the event: the row is visible
    const row = await t.database.db.selectFrom('currencies').select('rate').where('id', '=', c.id).executeTakeFirst();
    expect(row?.rate).toBe('63.8808');
  });

  it('keeps a decimal string beyond double precision exact', async () => {
    const c = await create({ rate: '0.12345678901234567891' });
    expect(c.rate).toBe('0.12345678901234567891');
  });

  it('answers 409 for a duplicate code', async () => {
    const c = await create();
    const res = await t.request('POST', '/api/v1/currencies', { body: { code: c.code, rate: 1 }, headers: admin.auth });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'currency_exists' });
    expect((res.body as { detail: string }).detail).toContain(c.code);
  });

  it('answers 422 naming each bad field', async () => {
    const res = await t.request<{ errors: { path: string }[] }>('POST', '/api/v1/currencies', {
      body: { code: 'US', rate: -1, nominal: 0 },
      headers: admin.auth,
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e) => e.path).sort()).toEqual(['body.code', 'body.nominal', 'body.rate']);
    for (const rate of [0, '0.000', '1e5', 'abc', null]) {
      const r = await t.request('POST', '/api/v1/currencies', { body: { code: 'QQQ', rate }, headers: admin.auth });
      expect(r.status, String(rate)).toBe(422);
    }
  });

  it('answers 401 anonymous and 403 to a user (admin only)', async () => {
    const body = { code: nextCode(), rate: '1' };
    expect((await t.request('POST', '/api/v1/currencies', { body })).status).toBe(401);
    const res = await t.request('POST', '/api/v1/currencies', { body, headers: user.auth });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});

describe('GET /api/v1/currencies and /{id}', () => {
  it('reads one currency publicly; 404 for an unknown id; 422 for a bad id', async () => {
    const c = await create();
    const res = await t.request('GET', `/api/v1/currencies/${c.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(c);
    const missing = await t.request('GET', '/api/v1/currencies/999999');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'currency_not_found' });
    expect((await t.request('GET', '/api/v1/currencies/abc')).status).toBe(422);
  });

  it('pages the list with limit and offset (limit at most 1000)', async () => {
    await create();
    await create();
    await create();
    const all = currencyListSchema.parse((await t.request('GET', '/api/v1/currencies?limit=1000')).body);
    expect(all.next_offset).toBeNull();
    const ids = all.items.map((c) => c.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const page = currencyListSchema.parse((await t.request('GET', '/api/v1/currencies?limit=2&offset=1')).body);
    expect(page.items.map((c) => c.id)).toEqual(ids.slice(1, 3));
    expect(page.next_offset).toBe(3);
    for (const q of ['limit=1001', 'limit=0', 'offset=-1', 'limit=abc']) {
      expect((await t.request('GET', `/api/v1/currencies?${q}`)).status, q).toBe(422);
    }
  });

  it('answers 304 to a matching If-None-Match, and the list changes right after a write', async () => {
    const first = await t.request('GET', '/api/v1/currencies?limit=1000');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await t.request('GET', '/api/v1/currencies?limit=1000', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');

    const c = await create();
    const after = await t.request('GET', '/api/v1/currencies?limit=1000', { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(currencyListSchema.parse(after.body).items.map((x) => x.id)).toContain(c.id);

    await t.request('PATCH', `/api/v1/currencies/${c.id}`, { body: { rate: '99.99' }, headers: admin.auth });
    const patched = currencyListSchema.parse((await t.request('GET', '/api/v1/currencies?limit=1000')).body);
    expect(patched.items.find((x) => x.id === c.id)?.rate).toBe('99.99');

    await t.request('DELETE', `/api/v1/currencies/${c.id}`, { headers: admin.auth });
    const deleted = currencyListSchema.parse((await t.request('GET', '/api/v1/currencies?limit=1000')).body);
    expect(deleted.items.map((x) => x.id)).not.toContain(c.id);
  });
});

describe('PATCH /api/v1/currencies/{id}', () => {
  it('changes the given fields (admin) and publishes currencies.updated', async () => {
    const c = await create({ nominal: 1, rate: '80' });
    const sub = await listen(t.deps.nats, 'currencies.updated');
    const res = await t.request('PATCH', `/api/v1/currencies/${c.id}`, {
      body: { nominal: 10, rate: '801.5' },
      headers: admin.auth,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: c.id, code: c.code, nominal: 10, rate: '801.5', unit_rate: '80.15' });
    expect(new Date(currencySchema.parse(res.body).updated_at) >= new Date(c.updated_at)).toBe(true);
    expect(currencyEvent.parse((await sub.next).data)).toMatchObject({ id: c.id, rate: '801.5', source: 'api' });
  });

  it('answers 404 unknown, 409 for a taken code, 422 for an empty or bad body', async () => {
    const [a, b] = [await create(), await create()];
    expect(
      (await t.request('PATCH', '/api/v1/currencies/999999', { body: { rate: 1 }, headers: admin.auth })).status,
    ).toBe(404);
    const dup = await t.request('PATCH', `/api/v1/currencies/${a.id}`, { body: { code: b.code }, headers: admin.auth });
    expect(dup.status).toBe(409);
    expect((await t.request('PATCH', `/api/v1/currencies/${a.id}`, { body: {}, headers: admin.auth })).status).toBe(
      422,
    );
    expect(
      (await t.request('PATCH', `/api/v1/currencies/${a.id}`, { body: { rate: 'x' }, headers: admin.auth })).status,
    ).toBe(422);
  });

  it('answers 401 anonymous and 403 to a user', async () => {
    const c = await create();
    expect((await t.request('PATCH', `/api/v1/currencies/${c.id}`, { body: { rate: 2 } })).status).toBe(401);
    expect(
      (await t.request('PATCH', `/api/v1/currencies/${c.id}`, { body: { rate: 2 }, headers: user.auth })).status,
    ).toBe(403);
    expect((await t.request('GET', `/api/v1/currencies/${c.id}`)).body).toMatchObject({ rate: c.rate });
  });
});

describe('DELETE /api/v1/currencies/{id}', () => {
  it('deletes (admin) with 204 and publishes currencies.deleted; then 404', async () => {
    const c = await create();
    const sub = await listen(t.deps.nats, 'currencies.deleted');
    const res = await t.request('DELETE', `/api/v1/currencies/${c.id}`, { headers: admin.auth });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(currencyDeletedEvent.parse((await sub.next).data)).toEqual({ id: c.id, code: c.code });
    expect((await t.request('GET', `/api/v1/currencies/${c.id}`)).status).toBe(404);
    expect((await t.request('DELETE', `/api/v1/currencies/${c.id}`, { headers: admin.auth })).status).toBe(404);
  });

  it('answers 401 anonymous and 403 to a user, and the row stays', async () => {
    const c = await create();
    expect((await t.request('DELETE', `/api/v1/currencies/${c.id}`)).status).toBe(401);
    expect((await t.request('DELETE', `/api/v1/currencies/${c.id}`, { headers: user.auth })).status).toBe(403);
    expect((await t.request('GET', `/api/v1/currencies/${c.id}`)).status).toBe(200);
  });
});
