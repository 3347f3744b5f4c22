// Bearer tokens as an attacker holding JWT_SECRET-signed tokens would try them: no exp, a lifetime
// past the TTL, iat in the future, a subject that is gone or not a UUID; the role taken from the
// account (not the token) on every replica; the 401 challenge; and /ws `auth` refusing the same.
import { randomUUID } from 'node:crypto';

import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exchangeJobBody } from '@ratewire/contracts';
import { serviceUrls } from '@ratewire/testkit';

import { ACCOUNT_CACHE_TTL_MS } from '../src/auth/accounts.ts';
import { signAccessToken } from '../src/auth/tokens.ts';
import { createJobsService } from '../src/jobs/jobs.service.ts';
import type { Reply, TestUser } from './harness.ts';
import { startRestApi, type RestEnv } from './rest-support.ts';
import { WsClient, startWsApi, type WsApi } from './ws-harness.ts';

let t: RestEnv;
let ttl: number;
const sockets: WsClient[] = [];

beforeAll(async () => {
  t = await startRestApi();
  ttl = t.deps.settings.JWT_TTL_SECONDS;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
});

const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the api's real JWT_SECRET carrying exactly `claims`. */
function craft(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(t.deps.settings.JWT_SECRET));
}

/** The claims the api itself issues for `user`, with `extra` overriding or (undefined) removing some. */
function claimsFor(user: { id: string; email: string; sessionId?: string }, extra: Record<string, unknown> = {}) {
  const iat = now();
  const claims: Record<string, unknown> = {
    sub: user.id,
    sid: user.sessionId ?? randomUUID(),
    iss: 'ratewire',
    aud: 'ratewire-api',
    iat,
    exp: iat + ttl,
    ...extra,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const job = (requestId = randomUUID()) => ({
  request_id: requestId,
  exchange_rate: '75.5',
  bills: [{ denomination_id: 1, denomination: 10, count: 5 }],
});

async function jobCount(userId?: string): Promise<number> {
  let q = t.database.db.selectFrom('exchange_jobs').select((eb) => eb.fn.countAll<string>().as('n'));
  if (userId) q = q.where('user_id', '=', userId);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

async function openWs(query = ''): Promise<WsClient> {
  const c = await WsClient.open(`${t.url.replace('http', 'ws')}/ws${query}`);
  sockets.push(c);
  return c;
}

/** The answer /ws gives to `{op: auth, token}`. */
async function wsAuth(token: string) {
  const c = await openWs();
  c.send({ op: 'auth', token });
  return c.waitFor((f) => f.type === 'authenticated' || f.type === 'error', 1);
}

/** 401 refusing the token sent: `invalid_token`, or `unknown_user` for a valid token whose account is gone. */
function expectRefusedToken(res: Reply, code: 'invalid_token' | 'unknown_user' = 'invalid_token') {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: 401, code });
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ratewire", error="invalid_token"');
}

describe('bearer token lifetime', () => {
  // each case: claims of an existing account, signed with the real secret
  const cases: [string, (u: TestUser) => Record<string, unknown>][] = [
    ['has no exp', (u) => claimsFor(u, { exp: undefined })],
    ['has no iat', (u) => claimsFor(u, { iat: undefined })],
    ['has neither iat nor exp', (u) => claimsFor(u, { iat: undefined, exp: undefined })],
    ['claims a lifetime one second over JWT_TTL_SECONDS', (u) => claimsFor(u, { exp: now() + ttl + 1 })],
    ['claims a lifetime of ten years', (u) => claimsFor(u, { exp: now() + 10 * 365 * 86_400 })],
    ['was issued a minute in the future', (u) => claimsFor(u, { iat: now() + 60, exp: now() + 60 + ttl })],
    [
      'was issued longer than the TTL ago, however late its exp',
      (u) => claimsFor(u, { iat: now() - ttl - 60, exp: now() + 60 }),
    ],
    ['expired', (u) => claimsFor(u, { iat: now() - 120, exp: now() - 60 })],
    ['has a non-numeric exp', (u) => claimsFor(u, { exp: String(now() + 60) })],
  ];

  it.each(cases)('refuses a signed token that %s: 401 on REST, unauthorized on /ws', async (_name, claims) => {
    const u = await t.user();
    const token = await craft(claims(u));
    expectRefusedToken(await t.request('GET', '/api/v1/auth/me', { headers: bearer(token) }));
    expectRefusedToken(await t.request('POST', '/api/v1/exchange-jobs', { body: job(), headers: bearer(token) }));
    expect(await jobCount(u.id)).toBe(0);
    expect(await wsAuth(token)).toMatchObject({ type: 'error', code: 'unauthorized' });
  });

  it('accepts a token whose lifetime is exactly JWT_TTL_SECONDS, as login issues', async () => {
    const u = await t.user();
    const token = await craft(claimsFor(u));
    const me = await t.request('GET', '/api/v1/auth/me', { headers: bearer(token) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: u.id });
    expect(await wsAuth(token)).toEqual({ type: 'authenticated', user_id: u.id });
  });

  it('refuses a token signed with another secret, for another audience or with alg none', async () => {
    const u = await t.user();
    const other = await new SignJWT(claimsFor(u))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-000'));
    const audience = await craft(claimsFor(u, { aud: 'someone-else' }));
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsFor(u))}.`;
    for (const token of [other, audience, none]) {
      expectRefusedToken(await t.request('GET', '/api/v1/auth/me', { headers: bearer(token) }));
      expect(await wsAuth(token)).toMatchObject({ type: 'error', code: 'unauthorized' });
    }
  });
});

describe('the account behind a token', () => {
  it('answers 401 (not 500) to a deleted account on POST /api/v1/exchange-jobs and writes nothing', async () => {
    const u = await t.user();
    // the token worked while the account existed
    const first = await t.request('POST', '/api/v1/exchange-jobs', { body: job(), headers: u.auth });
    expect(first.status).toBe(202);
    await t.database.db.deleteFrom('users').where('id', '=', u.id).execute();
    const before = await jobCount();
    // at once, even while the cached account may not have been dropped yet (the job's foreign key then refuses it)
    for (const path of ['/api/v1/exchange-jobs', '/api/exchange_async']) {
      expectRefusedToken(await t.request('POST', path, { body: job(), headers: u.auth }), 'unknown_user');
    }
    expectRefusedToken(await t.request('GET', '/api/v1/auth/me', { headers: u.auth }), 'unknown_user');
    expect(await jobCount()).toBe(before);
    // once the change notification has dropped the cached account, every route and /ws refuse the token
    expectRefusedToken(
      await waitStatus(() => t.request('GET', '/api/v1/exchange-jobs', { headers: u.auth }), 401),
      'unknown_user',
    );
    expect(await wsAuth(u.token)).toMatchObject({ type: 'error', code: 'unauthorized' });
  });

  it('refuses a job whose account is deleted between the token check and the insert with 401', async () => {
    const service = createJobsService({
      db: t.database.db,
      redis: t.deps.redis,
      log: t.deps.log,
      onAccepted: () => {},
    });
    const ghost = { id: randomUUID(), email: 'ghost@example.test', role: 'user' as const, emailConfirmed: true };
    const body = exchangeJobBody.parse(job());
    await expect(service.submit(ghost, body)).rejects.toMatchObject({ status: 401, code: 'unknown_user' });
  });

  it.each([
    ['not a UUID', 'not-a-uuid'],
    ['an email', 'someone@example.test'],
    ['SQL', "' or 1=1 --"],
    ['a UUID with a NUL', `${randomUUID()}\u0000`],
    ['a number', 42],
  ])('answers 401 (not 500) when sub is %s', async (_name, sub) => {
    const token = await craft(claimsFor({ id: '', email: 'x@example.test' }, { sub }));
    expectRefusedToken(await t.request('GET', '/api/v1/auth/me', { headers: bearer(token) }));
    expectRefusedToken(await t.request('POST', '/api/v1/exchange-jobs', { body: job(), headers: bearer(token) }));
    expect(await wsAuth(token)).toMatchObject({ type: 'error', code: 'unauthorized' });
  });

  it('answers 401 when sub is missing, or names no account', async () => {
    const noSub = await craft(claimsFor({ id: '', email: 'x@example.test' }, { sub: undefined }));
    const nobody = await craft(claimsFor({ id: randomUUID(), email: 'x@example.test' }, { role: 'admin' }));
    for (const [token, code] of [
      [noSub, 'invalid_token'],
      [nobody, 'unknown_user'],
    ] as const) {
      expectRefusedToken(await t.request('GET', '/api/v1/auth/me', { headers: bearer(token) }), code);
      expectRefusedToken(await t.request('GET', `/api/v1/tasks/${randomUUID()}`, { headers: bearer(token) }), code);
      expect(await wsAuth(token)).toMatchObject({ type: 'error', code: 'unauthorized' });
    }
  });
});

describe('the role is the account’s, not the token’s', () => {
  // an admin-only read with no side effect: 404 for an admin (no such task), 403 for a user
  const adminRead = (headers: Record<string, string>) => t.request('GET', `/api/v1/tasks/${randomUUID()}`, { headers });

  it('ignores role: admin in the token of a user account', async () => {
    const u = await t.user('user');
    const token = await craft(claimsFor(u, { role: 'admin' }));
    expect((await adminRead(bearer(token))).status).toBe(403);
    expect((await t.request('GET', '/api/v1/auth/me', { headers: bearer(token) })).body).toMatchObject({
      role: 'user',
    });
  });

  it('takes admin rights away from a demoted admin at once, and gives them to a promoted user', async () => {
    const boss = await t.user('admin');
    expect((await adminRead(boss.auth)).status).toBe(404);
    expect((await adminRead(boss.auth)).status).toBe(404); // now cached
    const demotedAt = Date.now();
    await t.database.db.updateTable('users').set({ role: 'user' }).where('id', '=', boss.id).execute();
    // the cache entry is dropped on the change (NOTIFY), well before it would expire
    const res = await waitStatus(() => adminRead(boss.auth), 403);
    expect(Date.now() - demotedAt).toBeLessThan(ACCOUNT_CACHE_TTL_MS / 2);
    expect(res.body).toMatchObject({ code: 'forbidden' });

    await t.database.db.updateTable('users').set({ role: 'admin' }).where('id', '=', boss.id).execute();
    await waitStatus(() => adminRead(boss.auth), 404);
  });

  it('applies a role change on every api replica over the database, REST and /ws alike', async () => {
    const second: WsApi = await startWsApi(t.database, serviceUrls().REDIS_URL, t.privateNats.url);
    try {
      const [boss, owner] = await Promise.all([t.user('admin'), t.user('user')]);
      const accepted = await t.request<{ job_id: string }>('POST', '/api/v1/exchange-jobs', {
        body: job(),
        headers: owner.auth,
      });
      expect(accepted.status).toBe(202);
      const channel = `jobs:${accepted.body.job_id}`;
      const replicaRead = () =>
        fetch(`${second.url}/api/v1/tasks/${randomUUID()}`, { headers: boss.auth }).then((r) => ({ status: r.status }));
      // both replicas have the admin cached
      expect((await adminRead(boss.auth)).status).toBe(404);
      expect((await replicaRead()).status).toBe(404);
      const ws = await WsClient.open(`${second.wsUrl}?token=${boss.token}`);
      sockets.push(ws);
      expect(await ws.waitFor((f) => f.type === 'authenticated' || f.type === 'error')).toMatchObject({
        type: 'authenticated',
      });
      expect(await ws.subscribe(channel)).toEqual({ type: 'subscribed', channel });
      ws.send({ op: 'unsubscribe', channel });

      const demotedAt = Date.now();
      await t.database.db.updateTable('users').set({ role: 'user' }).where('id', '=', boss.id).execute();
      await waitStatus(() => adminRead(boss.auth), 403);
      await waitStatus(replicaRead, 403);
      expect(Date.now() - demotedAt).toBeLessThan(ACCOUNT_CACHE_TTL_MS / 2);
      // the socket authenticated as an admin: its next subscribe is judged by the role it has now
      expect(await ws.subscribe(channel)).toMatchObject({ type: 'error', code: 'forbidden' });
    } finally {
      await second.close();
    }
  });
});

describe('401 challenges (RFC 6750 §3)', () => {
  it('answers a request without a token with WWW-Authenticate: Bearer, without an error code', async () => {
    const res = await t.request('GET', '/api/v1/auth/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ratewire"');
    const admin = await t.request('POST', '/api/v1/tasks/rates-refresh');
    expect(admin.status).toBe(401);
    expect(admin.headers.get('www-authenticate')).toBe('Bearer realm="ratewire"');
  });

  it('adds error="invalid_token" when the token sent is refused', async () => {
    expectRefusedToken(await t.request('GET', '/api/v1/auth/me', { headers: bearer('not-a-token') }));
    expectRefusedToken(await t.request('GET', '/api/v1/currencies', { headers: { authorization: 'Bearer a b' } }));
    const forged = await signAccessToken(
      { userId: randomUUID(), sessionId: randomUUID() },
      { JWT_SECRET: 'another-secret-that-is-long-enough-000', JWT_TTL_SECONDS: 60 },
    );
    expectRefusedToken(await t.request('POST', '/api/v1/tasks/rates-refresh', { headers: bearer(forged) }));
    const gone = await craft(claimsFor({ id: randomUUID(), email: 'x@example.test' }));
    expectRefusedToken(await t.request('GET', '/api/v1/auth/me', { headers: bearer(gone) }), 'unknown_user');
  });

  it('challenges an Authorization header of another scheme, and a failed login, with the Bearer scheme', async () => {
    const basic = await t.request('GET', '/api/v1/auth/me', { headers: { authorization: 'Basic dTpw' } });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="ratewire"');
    const login = await t.request('POST', '/api/v1/auth/login', {
      body: { email: `${randomUUID()}@example.test`, password: 'wrong-password' },
    });
    expect(login.status).toBe(401);
    expect(login.headers.get('www-authenticate')).toBe('Bearer realm="ratewire"');
  });

  it('sends no challenge on answers other than 401', async () => {
    const u = await t.user();
    const forbidden = await t.request('POST', '/api/v1/tasks/rates-refresh', { headers: u.auth });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toBeNull();
  });
});

describe('/ws auth', () => {
  it('refuses a bad token given in the URL the same way', async () => {
    const u = await t.user();
    const token = await craft(claimsFor(u, { exp: undefined }));
    const c = await openWs(`?token=${token}`);
    expect(await c.waitFor((f) => f.type === 'authenticated' || f.type === 'error')).toMatchObject({
      type: 'error',
      code: 'unauthorized',
    });
    const ok = await openWs(`?token=${u.token}`);
    expect(await ok.waitFor((f) => f.type === 'authenticated' || f.type === 'error')).toEqual({
      type: 'authenticated',
      user_id: u.id,
    });
  });
});

async function waitStatus<T extends { status: number }>(read: () => Promise<T>, status: number): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const res = await read();
    if (res.status === status) return res;
    if (Date.now() > deadline) throw new Error(`still ${res.status}, expected ${status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
