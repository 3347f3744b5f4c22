// API keys end to end: created, listed and revoked over REST; sent as X-API-Key or Bearer; scopes
// checked by the route registry; refused on a second replica once revoked; rate-limited through
// Redis (shared by replicas, failing open to a per-process bucket while Redis is down); answered by
// the fast lane when everything is known at once.
import { createHash, randomUUID } from 'node:crypto';

import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { apiKeyList, createdApiKeySchema, problemSchema, type CreatedApiKeyDto } from '@ratewire/contracts';
import { waitFor } from '@ratewire/testkit';
import { startPrivateNats, startPrivateRedis, type PrivateServer } from '@ratewire/testkit/private-servers';

import type { ApiApp } from '../src/compose.ts';
import { startTestApi, type TestApi, type TestUser } from './harness.ts';
import { rawGet } from './rest-support.ts';

const JOB = {
  exchange_rate: 75.5,
  bills: [{ denomination_id: 1, denomination: 10, count: 5 }],
};

/** Counts the requests that reach Express (the rest were answered by the fast lane). */
function expressCounter(api: ApiApp): () => number {
  const app = api.app as unknown as { handle: (...args: unknown[]) => unknown };
  const handle = app.handle.bind(app);
  let n = 0;
  app.handle = (...args: unknown[]) => {
    n++;
    return handle(...args);
  };
  return () => n;
}

async function createKey(
  t: TestApi,
  user: TestUser,
  body: Record<string, unknown> = { name: 'program', scopes: ['read'] },
): Promise<CreatedApiKeyDto> {
  const res = await t.request('POST', '/api/v1/api-keys', { headers: user.auth, body });
  expect(res.status, res.text).toBe(201);
  return createdApiKeySchema.parse(res.body);
}

const withKey = (key: string) => ({ 'x-api-key': key });

let nats: PrivateServer;
let a: TestApi;
let b: TestApi;
let onExpressA: () => number;
let onExpressB: () => number;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  nats = await startPrivateNats();
  a = await startTestApi({ NATS_URL: nats.url, API_KEY_RATE_LIMIT: '100000' });
  b = await startTestApi({ NATS_URL: nats.url, API_KEY_RATE_LIMIT: '100000' }, { shareWith: a });
  onExpressA = expressCounter(a.api);
  onExpressB = expressCounter(b.api);
  [alice, bob] = await Promise.all([a.user(), a.user()]);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await nats?.close();
});

describe('POST /api/v1/api-keys', () => {
  it('answers the key once; the list shows its prefix and never the key; only its SHA-256 is stored', async () => {
    const created = await createKey(a, alice, { name: '  nightly sync  ', scopes: ['read', 'jobs'] });
    expect(created.key).toMatch(/^rw_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 19));
    expect(created).toMatchObject({ name: 'nightly sync', scopes: ['read', 'jobs'], last_used_at: null });
    expect(created.expires_at).toBeNull();
    expect(created).not.toHaveProperty('revoked_at');

    const list = await a.request('GET', '/api/v1/api-keys', { headers: alice.auth });
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    const items = apiKeyList.parse(list.body).items;
    const listed = items.find((k) => k.id === created.id)!;
    expect(listed).toMatchObject({ prefix: created.prefix, name: 'nightly sync', revoked_at: null });
    expect(list.text).not.toContain(created.key);
    expect(list.text).not.toContain(created.key.slice(20));
    expect(listed).not.toHaveProperty('key');

    const row = await a.database.db
      .selectFrom('api_keys')
      .select(['secret_hash', 'lookup'])
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash.equals(createHash('sha256').update(created.key).digest())).toBe(true);
    expect(row.lookup).toBe(created.key.slice(3, 19));
  });

  it('refuses bad bodies with 422 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '   ', scopes: ['read'] }, 'body.name'],
      [{ name: 'x'.repeat(101), scopes: ['read'] }, 'body.name'],
      [{ name: 'x', scopes: [] }, 'body.scopes'],
      [{ name: 'x', scopes: ['read', 'read'] }, 'body.scopes'],
      [{ name: 'x', scopes: ['admin'] }, 'body.scopes.0'],
      [{ name: 'x', scopes: ['read'], expires_at: '2020-01-01T00:00:00Z' }, 'body.expires_at'],
      [{ name: 'x', scopes: ['read'], expires_at: 'tomorrow' }, 'body.expires_at'],
      [{ name: 'x', scopes: ['read'], expires_at: '2999-01-01T00:00:00' }, 'body.expires_at'],
    ];
    for (const [body, path] of cases) {
      const res = await a.request<{ errors: { path: string }[] }>('POST', '/api/v1/api-keys', {
        headers: alice.auth,
        body,
      });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors.map((e) => e.path)).toContain(path);
    }
  });

  it('needs a session: 401 without one', async () => {
    expect((await a.request('POST', '/api/v1/api-keys', { body: { name: 'x', scopes: ['read'] } })).status).toBe(401);
    expect((await a.request('GET', '/api/v1/api-keys')).status).toBe(401);
  });

  it('allows 25 live keys per account: the 26th is 409 until one is revoked', async () => {
    const carol = await a.user();
    const keys: CreatedApiKeyDto[] = [];
    for (let i = 0; i < 25; i++) keys.push(await createKey(a, carol, { name: `k${i}`, scopes: ['read'] }));
    const over = await a.request('POST', '/api/v1/api-keys', {
      headers: carol.auth,
      body: { name: 'x', scopes: ['read'] },
    });
    expect(over.status).toBe(409);
    expect(problemSchema.parse(over.body)).toMatchObject({ code: 'api_key_limit' });
    expect(problemSchema.parse(over.body).detail).toContain('25');
    expect((await a.request('DELETE', `/api/v1/api-keys/${keys[0]!.id}`, { headers: carol.auth })).status).toBe(204);
    await createKey(a, carol, { name: 'again', scopes: ['read'] });
  });
});

describe('DELETE /api/v1/api-keys/{id}', () => {
  it("revokes the owner's key only: another account's or an unknown id is 404", async () => {
    const key = await createKey(a, alice);
    expect((await a.request('DELETE', `/api/v1/api-keys/${key.id}`, { headers: bob.auth })).status).toBe(404);
    expect((await a.request('DELETE', `/api/v1/api-keys/${randomUUID()}`, { headers: alice.auth })).status).toBe(404);
    expect((await a.request('DELETE', '/api/v1/api-keys/nope', { headers: alice.auth })).status).toBe(422);
    const bobs = apiKeyList.parse((await a.request('GET', '/api/v1/api-keys', { headers: bob.auth })).body).items;
    expect(bobs.map((k) => k.id)).not.toContain(key.id);
    expect((await a.request('GET', '/api/v1/auth/me', { headers: withKey(key.key) })).status).toBe(200);

    expect((await a.request('DELETE', `/api/v1/api-keys/${key.id}`, { headers: alice.auth })).status).toBe(204);
    const refused = await a.request('GET', '/api/v1/auth/me', { headers: withKey(key.key) });
    expect(refused.status).toBe(401);
    expect(problemSchema.parse(refused.body)).toMatchObject({ code: 'invalid_api_key' });
    expect(problemSchema.parse(refused.body).detail).toContain('revoked');
    const listed = apiKeyList.parse((await a.request('GET', '/api/v1/api-keys', { headers: alice.auth })).body).items;
    expect(listed.find((k) => k.id === key.id)?.revoked_at).toEqual(expect.any(String));
    // again: still revoked, still 204
    expect((await a.request('DELETE', `/api/v1/api-keys/${key.id}`, { headers: alice.auth })).status).toBe(204);
  });

  it('is refused on a second replica too, within moments (measured from the 204 to the first 401 there)', async () => {
    const key = await createKey(a, alice);
    // replica B learns the key and serves cached reads with it from its fast lane: its feed listens
    expect((await b.request('GET', '/api/v1/currencies')).status).toBe(200);
    await waitFor(
      async () => {
        const before = onExpressB();
        const res = await rawGet(`${b.url}/api/v1/currencies`, withKey(key.key));
        return res.status === 200 && onExpressB() === before;
      },
      { what: 'replica B answering the key from its fast lane' },
    );
    expect((await b.request('GET', '/api/v1/auth/me', { headers: withKey(key.key) })).status).toBe(200);

    expect((await a.request('DELETE', `/api/v1/api-keys/${key.id}`, { headers: alice.auth })).status).toBe(204);
    const revokedAt = performance.now();
    const status = await waitFor(
      async () => {
        const res = await rawGet(`${b.url}/api/v1/currencies`, withKey(key.key));
        return res.status === 200 ? undefined : res.status;
      },
      { timeoutMs: 10_000, intervalMs: 5, what: 'replica B refusing the revoked key' },
    );
    const ms = performance.now() - revokedAt;
    console.info(`revoked key refused on the second replica after ${ms.toFixed(1)} ms`);
    expect(status).toBe(401);
    expect((await b.request('GET', '/api/v1/auth/me', { headers: withKey(key.key) })).status).toBe(401);
  });
});

describe('authentication by API key', () => {
  it('takes X-API-Key or Authorization: Bearer, acting as the owner', async () => {
    const key = await createKey(a, alice);
    for (const headers of [
      withKey(key.key),
      { authorization: `Bearer ${key.key}` },
      { authorization: `bearer ${key.key}` },
    ]) {
      const me = await a.request<{ id: string }>('GET', '/api/v1/auth/me', { headers });
      expect(me.status, JSON.stringify(headers)).toBe(200);
      expect(me.body.id).toBe(alice.id);
    }
    // the same key in both headers is one credential
    const both = await a.request('GET', '/api/v1/auth/me', {
      headers: { ...withKey(key.key), authorization: `Bearer ${key.key}` },
    });
    expect(both.status).toBe(200);
  });

  it('answers 400 to an API key and a different Authorization at once', async () => {
    const key = await createKey(a, alice);
    const other = await createKey(a, alice);
    for (const authorization of [alice.auth.authorization!, `Bearer ${other.key}`, 'Basic YTpi']) {
      const res = await a.request('GET', '/api/v1/auth/me', { headers: { ...withKey(key.key), authorization } });
      expect(res.status).toBe(400);
      expect(problemSchema.parse(res.body)).toMatchObject({ code: 'conflicting_credentials' });
    }
  });

  it('refuses malformed, tampered and unknown keys with 401 invalid_api_key', async () => {
    const key = await createKey(a, alice);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = [
      '',
      'rw_',
      key.key.slice(0, -1),
      `${key.key}A`,
      flip(key.key, key.key.length - 1),
      flip(key.key, 5),
      `rw_${'A'.repeat(16)}_${'B'.repeat(43)}`,
      key.key.replace('rw_', 'RW_'),
      key.prefix,
    ];
    for (const text of bad) {
      const res = await rawGet(`${a.url}/api/v1/auth/me`, withKey(text));
      expect(res.status, text).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'invalid_api_key' });
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    const bearer = await a.request('GET', '/api/v1/auth/me', {
      headers: { authorization: `Bearer ${flip(key.key, 30)}` },
    });
    expect(bearer.status).toBe(401);
    expect(problemSchema.parse(bearer.body)).toMatchObject({ code: 'invalid_api_key' });
    // a refused key is never anonymous, not even on a public read the fast lane holds
    expect((await a.request('GET', '/api/v1/currencies')).status).toBe(200);
    expect((await rawGet(`${a.url}/api/v1/currencies`, withKey(flip(key.key, 30)))).status).toBe(401);
  });

  it('refuses a key once it expires', async () => {
    const key = await createKey(a, alice, {
      name: 'short',
      scopes: ['read'],
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await a.request('GET', '/api/v1/auth/me', { headers: withKey(key.key) })).status).toBe(200);
    const status = await waitFor(async () => {
      const res = await a.request('GET', '/api/v1/auth/me', { headers: withKey(key.key) });
      return res.status === 200 ? undefined : res;
    });
    expect(status.status).toBe(401);
    expect(problemSchema.parse(status.body).detail).toContain('expired');
    // and a key whose expiry is moved into the past in the database is refused at once
    const other = await createKey(a, alice);
    expect((await a.request('GET', '/api/v1/auth/me', { headers: withKey(other.key) })).status).toBe(200);
    await sql`update api_keys set expires_at = now() - interval '1 minute' where id = ${other.id}`.execute(
      a.database.db,
    );
    await waitFor(
      async () => (await a.request('GET', '/api/v1/auth/me', { headers: withKey(other.key) })).status === 401,
    );
  });

  it('records when a key was last used', async () => {
    const key = await createKey(a, alice);
    expect((await a.request('GET', '/api/v1/auth/me', { headers: withKey(key.key) })).status).toBe(200);
    const used = await waitFor(
      async () => {
        const items = apiKeyList.parse(
          (await a.request('GET', '/api/v1/api-keys', { headers: alice.auth })).body,
        ).items;
        return items.find((k) => k.id === key.id)?.last_used_at;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'last_used_at' },
    );
    expect(Date.parse(used)).toBeGreaterThanOrEqual(Date.parse(key.created_at));
  });
});

describe('scopes', () => {
  it('a read key reads, and is 403 insufficient_scope on jobs', async () => {
    const key = await createKey(a, alice, { name: 'reader', scopes: ['read'] });
    expect((await a.request('GET', '/api/v1/currencies', { headers: withKey(key.key) })).status).toBe(200);
    expect((await a.request('GET', '/api/v1/rates/binance', { headers: withKey(key.key) })).status).not.toBe(403);
    for (const [method, path] of [
      ['POST', '/api/v1/exchange-jobs'],
      ['GET', '/api/v1/exchange-jobs'],
      ['POST', '/api/v1/exchange/calculate'],
      ['POST', '/api/exchange_async'],
    ] as const) {
      const res = await a.request(method, path, {
        headers: withKey(key.key),
        body: method === 'POST' ? { request_id: 'r', ...JOB } : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(problemSchema.parse(res.body)).toMatchObject({ code: 'insufficient_scope' });
      expect(problemSchema.parse(res.body).detail).toContain("'jobs'");
    }
  });

  it('a jobs key submits and reads jobs and calculates, but is 403 on public reads', async () => {
    const key = await createKey(a, alice, { name: 'jobs', scopes: ['jobs'] });
    const submitted = await a.request<{ job_id: string }>('POST', '/api/v1/exchange-jobs', {
      headers: withKey(key.key),
      body: { request_id: `r-${randomUUID()}`, ...JOB },
    });
    expect(submitted.status, submitted.text).toBe(202);
    const job = await a.request<{ job_id: string }>('GET', `/api/v1/exchange-jobs/${submitted.body.job_id}`, {
      headers: withKey(key.key),
    });
    expect(job.status).toBe(200);
    // it is alice's job: her session sees it too
    expect(
      (await a.request('GET', `/api/v1/exchange-jobs/${submitted.body.job_id}`, { headers: alice.auth })).status,
    ).toBe(200);
    expect((await a.request('GET', '/api/v1/exchange-jobs', { headers: withKey(key.key) })).status).toBe(200);
    expect(
      (await a.request('POST', '/api/v1/exchange/calculate', { headers: withKey(key.key), body: JOB })).status,
    ).toBe(200);
    const read = await a.request('GET', '/api/v1/currencies', { headers: withKey(key.key) });
    expect(read.status).toBe(403);
    expect(problemSchema.parse(read.body).detail).toContain("'read'");
  });

  it('keys cannot manage keys or webhook secrets: 403 session_required', async () => {
    const key = await createKey(a, alice, { name: 'all', scopes: ['read', 'jobs', 'alerts'] });
    const cases = [
      ['POST', '/api/v1/api-keys', { name: 'minted', scopes: ['read'] }],
      ['GET', '/api/v1/api-keys', undefined],
      ['DELETE', `/api/v1/api-keys/${key.id}`, undefined],
      ['GET', '/api/v1/webhooks/secret', undefined],
      ['POST', '/api/v1/webhooks/secret/rotate', undefined],
    ] as const;
    for (const [method, path, body] of cases) {
      const res = await a.request(method, path, { headers: withKey(key.key), body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(problemSchema.parse(res.body)).toMatchObject({ code: 'session_required' });
    }
    // nothing was minted, nothing revoked
    const items = apiKeyList.parse((await a.request('GET', '/api/v1/api-keys', { headers: alice.auth })).body).items;
    expect(items.map((k) => k.name)).not.toContain('minted');
    expect(items.find((k) => k.id === key.id)?.revoked_at).toBeNull();
  });

  it("an admin's key never has the admin role", async () => {
    const admin = await a.user('admin');
    const key = await createKey(a, admin, { name: 'ops', scopes: ['read', 'jobs'] });
    const me = await a.request<{ id: string }>('GET', '/api/v1/auth/me', { headers: withKey(key.key) });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(admin.id);
    const write = await a.request('POST', '/api/v1/currencies', {
      headers: withKey(key.key),
      body: { code: 'QQK', rate: '1' },
    });
    expect(write.status).toBe(403);
    const task = await a.request('GET', `/api/v1/tasks/${randomUUID()}`, { headers: withKey(key.key) });
    expect(task.status).toBe(403);
    expect(problemSchema.parse(task.body)).toMatchObject({ code: 'forbidden' });
    const refresh = await a.request('POST', '/api/v1/tasks/rates-refresh', { headers: withKey(key.key) });
    expect(refresh.status).toBe(403);
    // the admin's own session still is one
    expect((await a.request('GET', `/api/v1/tasks/${randomUUID()}`, { headers: admin.auth })).status).toBe(404);
  });
});

describe('RateLimit-* headers', () => {
  it('are on every answer to a key, from Express and from the fast lane alike', async () => {
    const key = await createKey(a, alice);
    const me = await rawGet(`${a.url}/api/v1/auth/me`, withKey(key.key));
    expect(me.status).toBe(200);
    expect(me.headers['ratelimit-limit']).toBe('100000');
    expect(me.headers['ratelimit-policy']).toBe('100000;w=60');
    expect(Number(me.headers['ratelimit-remaining'])).toBeLessThan(100000);
    expect(Number(me.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(0);

    expect((await a.request('GET', '/api/v1/currencies')).status).toBe(200);
    const before = onExpressA();
    const lane = await rawGet(`${a.url}/api/v1/currencies`, withKey(key.key));
    expect(lane.status).toBe(200);
    expect(onExpressA(), 'answered by the fast lane').toBe(before);
    expect(lane.headers['ratelimit-limit']).toBe('100000');
    expect(lane.headers['ratelimit-policy']).toBe('100000;w=60');
    expect(Number(lane.headers['ratelimit-remaining'])).toBeLessThan(Number(me.headers['ratelimit-remaining']));
    expect(lane.headers['ratelimit-reset']).toMatch(/^\d+$/);
    // a 304 from the lane carries them too; an anonymous answer never does
    const etag = lane.headers.etag!;
    const notModified = await rawGet(`${a.url}/api/v1/currencies`, { ...withKey(key.key), 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers['ratelimit-limit']).toBe('100000');
    const anonymous = await rawGet(`${a.url}/api/v1/currencies`);
    expect(anonymous.headers['ratelimit-limit']).toBeUndefined();
    expect(anonymous.headers['ratelimit-remaining']).toBeUndefined();
  });
});

describe('the per-key limit', () => {
  let small: TestApi;
  let smallB: TestApi;
  beforeAll(async () => {
    small = await startTestApi({ API_KEY_RATE_LIMIT: '3' });
    smallB = await startTestApi({ API_KEY_RATE_LIMIT: '3' }, { shareWith: small });
  });
  afterAll(async () => {
    await smallB?.close();
    await small?.close();
  });

  it('is one bucket for every replica: past it, 429 rate_limited with Retry-After', async () => {
    const user = await small.user();
    const key = await createKey(small, user);
    const remaining: string[] = [];
    for (const t of [small, small, smallB]) {
      const res = await rawGet(`${t.url}/api/v1/auth/me`, withKey(key.key));
      expect(res.status).toBe(200);
      remaining.push(String(res.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    for (const t of [smallB, small]) {
      const res = await rawGet(`${t.url}/api/v1/auth/me`, withKey(key.key));
      expect(res.status).toBe(429);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'rate_limited', status: 429 });
      const retry = Number(res.headers['retry-after']);
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(20);
      expect(res.headers['ratelimit-remaining']).toBe('0');
      expect(res.headers['ratelimit-policy']).toBe('3;w=60');
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    // the limit is the key's: the owner's session and another key are not limited by it
    expect((await small.request('GET', '/api/v1/auth/me', { headers: user.auth })).status).toBe(200);
    const other = await createKey(small, user);
    expect((await small.request('GET', '/api/v1/auth/me', { headers: withKey(other.key) })).status).toBe(200);
  });
});

describe('the per-key limit while Redis is down', () => {
  let redis: PrivateServer;
  let t: TestApi;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    t = await startTestApi({ REDIS_URL: redis.url, API_KEY_RATE_LIMIT: '2' });
  });
  afterAll(async () => {
    await redis?.start();
    await t?.close();
    await redis?.close();
  });

  it('fails open to a bucket of the same size in this process, and goes back to Redis once it returns', async () => {
    const user = await t.user();
    const key = await createKey(t, user);
    const me = () => rawGet(`${t.url}/api/v1/auth/me`, withKey(key.key));
    expect((await me()).headers['ratelimit-remaining']).toBe('1');

    await redis.stop();
    const open = [await me(), await me(), await me()];
    expect(open.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(open[0]!.headers['ratelimit-limit']).toBe('2');
    expect(open[2]!.headers['retry-after']).toMatch(/^\d+$/);

    await redis.start();
    // the restarted server kept nothing: a fresh bucket in Redis decides again (the local one is empty)
    const back = await waitFor(
      async () => {
        const res = await me();
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'a token from Redis again' },
    );
    expect(back.headers['ratelimit-remaining']).toBe('1');
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(429);
  });
});

describe('garbage keys', () => {
  it('never get a 500, on Express routes or through the fast lane', async () => {
    const key = await createKey(a, alice);
    expect((await a.request('GET', '/api/v1/currencies')).status).toBe(200);
    const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 120 });
    const keyish = fc.oneof(
      printable,
      printable.map((s) => `rw_${s}`),
      fc
        .tuple(
          fc.string({ unit: 'grapheme-ascii', minLength: 16, maxLength: 16 }),
          fc.string({ unit: 'grapheme-ascii', minLength: 43, maxLength: 43 }),
        )
        .map(([l, s]) => `rw_${l}_${s}`),
      fc.nat({ max: key.key.length - 1 }).map((i) => key.key.slice(0, i) + '_' + key.key.slice(i + 1)),
      fc.constant(`rw_${'x'.repeat(4000)}`),
    );
    const header = fc.oneof(
      keyish.map((k) => ({ 'x-api-key': k })),
      keyish.map((k) => ({ authorization: `Bearer ${k}` })),
      fc.tuple(keyish, keyish).map(([x, y]) => ({ 'x-api-key': x, authorization: `Bearer ${y}` })),
    );
    const path = fc.constantFrom('/api/v1/currencies', '/api/v1/auth/me', '/api/v1/exchange-jobs', '/api/v1/api-keys');
    await fc.assert(
      fc.asyncProperty(header, path, async (headers: Record<string, string>, p) => {
        const res = await rawGet(`${a.url}${p}`, headers);
        expect(res.status, `${p} ${JSON.stringify(headers).slice(0, 200)}`).toBeLessThan(500);
        if (res.status !== 200) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        if (res.status === 200) expect(headers['x-api-key'] ?? headers.authorization).toContain(key.key);
      }),
      { numRuns: 300 },
    );
  });
});

describe('OpenAPI', () => {
  it('declares bearerAuth and apiKey, and lists on each operation what it accepts', async () => {
    type Op = { security?: Record<string, string[]>[]; description?: string };
    const doc = (
      await a.request<{
        paths: Record<string, Record<string, Op>>;
        components: { securitySchemes: Record<string, Record<string, string>> };
      }>('GET', '/openapi.json')
    ).body;
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    const op = (path: string, method: string) => doc.paths[path]![method]!;
    expect(op('/api/v1/currencies', 'get').security).toEqual([{}, { apiKey: ['read'] }]);
    expect(op('/api/v1/exchange-jobs', 'post').security).toEqual([{ bearerAuth: [] }, { apiKey: ['jobs'] }]);
    expect(op('/api/v1/exchange-jobs', 'post').description).toContain('`jobs` scope');
    expect(op('/api/v1/exchange/calculate', 'post').security).toEqual([{}, { apiKey: ['jobs'] }]);
    expect(op('/api/v1/auth/me', 'get').security).toEqual([{ bearerAuth: [] }, { apiKey: [] }]);
    expect(op('/api/v1/api-keys', 'post').security).toEqual([{ bearerAuth: [] }]);
    expect(op('/api/v1/webhooks/secret', 'get').security).toEqual([{ bearerAuth: [] }]);
    expect(op('/api/v1/tasks/{id}', 'get').security).toEqual([{ bearerAuth: [] }]);
    expect(op('/api/v1/auth/login', 'post').security).toBeUndefined();
  });
});
