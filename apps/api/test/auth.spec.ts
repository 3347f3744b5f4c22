import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tokenResponse, userSchema } from '@ratewire/contracts';

import { ensureAdmin } from '../src/auth/auth.service.ts';
import { signAccessToken } from '../src/auth/tokens.ts';
import { startRestApi, type RestEnv } from './rest-support.ts';

const ADMIN_EMAIL = 'Boss@Example.test';
const ADMIN_PASSWORD = 'admin-password-123';

let t: RestEnv;
beforeAll(async () => {
  t = await startRestApi({ ADMIN_EMAIL, ADMIN_PASSWORD });
});
afterAll(async () => {
  await t?.close();
});

let n = 0;
const freshEmail = () => `someone${++n}-${Date.now()}@example.test`;

describe('POST /api/v1/auth/register', () => {
  it('creates a user account and answers 201 without the password hash', async () => {
    const email = freshEmail();
    const res = await t.request('POST', '/api/v1/auth/register', {
      body: { email: email.toUpperCase(), password: 'long-enough-pw', name: 'Ann' },
    });
    expect(res.status).toBe(201);
    const user = userSchema.parse(res.body);
    expect(user).toMatchObject({ email, name: 'Ann', role: 'user' });
    expect(res.text).not.toMatch(/password/);
  });

  it('answers 409 problem+json when the email is taken (case-insensitively)', async () => {
    const email = freshEmail();
    expect(
      (await t.request('POST', '/api/v1/auth/register', { body: { email, password: 'long-enough-pw' } })).status,
    ).toBe(201);
    const res = await t.request('POST', '/api/v1/auth/register', {
      body: { email: email.toUpperCase(), password: 'another-password' },
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 409, code: 'email_taken' });
  });

  it('answers 422 naming each bad field', async () => {
    const res = await t.request<{ errors: { path: string }[] }>('POST', '/api/v1/auth/register', {
      body: { email: 'not-an-email', password: 'short' },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e) => e.path).sort()).toEqual(['body.email', 'body.password']);
  });

  it('never lets a caller register an admin', async () => {
    const res = await t.request('POST', '/api/v1/auth/register', {
      body: { email: freshEmail(), password: 'long-enough-pw', role: 'admin' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ role: 'user' });
  });
});

describe('POST /api/v1/auth/login', () => {
  it('answers a bearer token (JSON body) carrying sub, role, exp, iss and aud', async () => {
    const u = await t.user();
    const res = await t.request('POST', '/api/v1/auth/login', { body: { email: u.email, password: u.password } });
    expect(res.status).toBe(200);
    const token = tokenResponse.parse(res.body);
    expect(token.token_type).toBe('Bearer');
    expect(token.expires_in).toBe(t.deps.settings.JWT_TTL_SECONDS);
    const claims = decodeJwt(token.access_token);
    expect(claims).toMatchObject({ sub: u.id, role: 'user', iss: 'ratewire', aud: 'ratewire-api' });
    expect(claims.exp! - claims.iat!).toBe(t.deps.settings.JWT_TTL_SECONDS);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('accepts the OAuth2 password-flow form (username, password, grant_type)', async () => {
    const u = await t.user();
    const form = new URLSearchParams({ grant_type: 'password', username: u.email, password: u.password });
    const res = await t.request('POST', '/api/v1/auth/login', {
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    const me = await t.request('GET', '/api/v1/auth/me', {
      headers: { authorization: `Bearer ${tokenResponse.parse(res.body).access_token}` },
    });
    expect(me.body).toMatchObject({ id: u.id, email: u.email });
  });

  it('answers the same 401 for an unknown email and for a wrong password', async () => {
    const u = await t.user();
    const wrong = await t.request<Record<string, unknown>>('POST', '/api/v1/auth/login', {
      body: { email: u.email, password: 'not-the-password' },
    });
    const unknown = await t.request<Record<string, unknown>>('POST', '/api/v1/auth/login', {
      body: { email: freshEmail(), password: 'not-the-password' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
  });

  it('answers 422 when the email or password is missing', async () => {
    const res = await t.request<{ errors: { path: string }[] }>('POST', '/api/v1/auth/login', {
      body: { password: 'x' },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e) => e.path)).toContain('body.email');
    const noPassword = await t.request('POST', '/api/v1/auth/login', { body: { email: 'a@b.test' } });
    expect(noPassword.status).toBe(422);
  });

  it('blocks an email after 10 failures with 429 and Retry-After, even with the right password', async () => {
    const u = await t.user();
    for (let i = 0; i < 10; i++) {
      const res = await t.request('POST', '/api/v1/auth/login', { body: { email: u.email, password: `wrong-${i}` } });
      expect(res.status).toBe(401);
    }
    const blocked = await t.request('POST', '/api/v1/auth/login', { body: { email: u.email, password: u.password } });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ code: 'too_many_attempts' });
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // another account from the same address is not blocked by this email's counter
    const other = await t.user();
    const ok = await t.request('POST', '/api/v1/auth/login', {
      body: { email: other.email, password: other.password },
    });
    expect(ok.status).toBe(200);
  });

  it('blocks a client address after 50 failures across emails', async () => {
    // a test api of its own: the address counter is shared by every test in this file
    const own = await startRestApi();
    try {
      for (let i = 0; i < 50; i++) {
        const res = await own.request('POST', '/api/v1/auth/login', {
          body: { email: `nobody${i}@example.test`, password: 'whatever-pw' },
        });
        expect(res.status).toBe(401);
      }
      const u = await own.user();
      const blocked = await own.request('POST', '/api/v1/auth/login', {
        body: { email: u.email, password: u.password },
      });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await own.close();
    }
  });
});

describe('GET /api/v1/auth/me', () => {
  it('answers 401 to an anonymous caller and to a forged token', async () => {
    expect((await t.request('GET', '/api/v1/auth/me')).status).toBe(401);
    const forged = await signAccessToken(
      { userId: '00000000-0000-4000-8000-000000000000', sessionId: '00000000-0000-4000-8000-000000000001' },
      { JWT_SECRET: 'another-secret-that-is-long-enough-000', JWT_TTL_SECONDS: 60 },
    );
    const res = await t.request('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${forged}` } });
    expect(res.status).toBe(401);
  });

  it('answers each user with their own account', async () => {
    const [a, b] = await Promise.all([t.user(), t.user()]);
    const meA = await t.request('GET', '/api/v1/auth/me', { headers: a.auth });
    const meB = await t.request('GET', '/api/v1/auth/me', { headers: b.auth });
    expect(meA.body).toMatchObject({ id: a.id, email: a.email, role: 'user' });
    expect(meB.body).toMatchObject({ id: b.id, email: b.email, role: 'user' });
  });

  it('answers 401 when the account behind a valid token was deleted', async () => {
    const u = await t.user();
    await t.database.db.deleteFrom('users').where('id', '=', u.id).execute();
    const res = await t.request('GET', '/api/v1/auth/me', { headers: u.auth });
    expect(res.status).toBe(401);
  });
});

describe('ADMIN_EMAIL / ADMIN_PASSWORD', () => {
  it('ensures that admin at start-up: it can log in and has the admin role', async () => {
    const res = await t.request('POST', '/api/v1/auth/login', {
      body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(tokenResponse.parse(res.body).access_token)).toMatchObject({
      role: 'admin',
      email: ADMIN_EMAIL.toLowerCase(),
    });
  });

  it('is idempotent, and promotes an existing account of that email', async () => {
    const settings = { ADMIN_EMAIL, ADMIN_PASSWORD };
    expect(await ensureAdmin(t.database.db, settings)).toBe('unchanged');
    const email = freshEmail();
    await t.request('POST', '/api/v1/auth/register', { body: { email, password: 'user-password-1' } });
    expect(await ensureAdmin(t.database.db, { ADMIN_EMAIL: email, ADMIN_PASSWORD: 'admin-password-2' })).toBe(
      'updated',
    );
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email, password: 'admin-password-2' } });
    expect(decodeJwt(tokenResponse.parse(login.body).access_token)).toMatchObject({ role: 'admin' });
    const rows = await t.database.db.selectFrom('users').select('id').where('email', '=', email).execute();
    expect(rows).toHaveLength(1);
    expect(await ensureAdmin(t.database.db, {})).toBe('skipped');
  });
});
