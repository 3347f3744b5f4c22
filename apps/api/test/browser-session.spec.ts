// The browser session: POST /api/v1/auth/session puts the access token in an HttpOnly,
// SameSite=Strict cookie; the cookie then signs in REST and /ws on this origin only. Requests it
// signs in that change state must come from this origin; a cookie whose session ended is no credential.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApi, type TestApi, type TestUser } from './harness.ts';
import { WsClient } from './ws-harness.ts';

let t: TestApi;
let origin: string;
beforeAll(async () => {
  t = await startTestApi();
  origin = t.url;
});
afterAll(async () => {
  await t?.close();
});

/** Signs `user` in as a browser would (Origin of this api); answers the cookie pair and the Set-Cookie line. */
async function browserSignIn(user: TestUser): Promise<{ cookie: string; setCookie: string; status: number }> {
  const res = await t.request('POST', '/api/v1/auth/session', {
    body: { email: user.email, password: user.password },
    headers: { origin },
  });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, setCookie, status: res.status };
}

describe('POST /api/v1/auth/session', () => {
  it('answers the account and sets an HttpOnly, SameSite=Strict cookie that expires with the session', async () => {
    const user = await t.user();
    const res = await t.request<{ id: string; email: string }>('POST', '/api/v1/auth/session', {
      body: { email: user.email, password: user.password },
      headers: { origin },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email });
    expect(res.text).not.toContain('access_token');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^rw_session=[\w-]+\.[\w-]+\.[\w-]+; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain(`Max-Age=${t.deps.settings.JWT_TTL_SECONDS}`);
    expect(setCookie).not.toContain('Secure'); // plain HTTP here; Secure over HTTPS
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('marks the cookie Secure when the request came over HTTPS through a trusted proxy', async () => {
    const proxied = await startTestApi({ TRUST_PROXY: 'true' });
    try {
      const user = await proxied.user();
      const res = await proxied.request('POST', '/api/v1/auth/session', {
        body: { email: user.email, password: user.password },
        headers: { origin: 'https://rates.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'rates.example' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toContain('; Secure');
    } finally {
      await proxied.close();
    }
  });

  it('refuses a sign-in posted from another site (403 cross_site_request) and sets no cookie', async () => {
    const user = await t.user();
    const res = await t.request<{ code: string }>('POST', '/api/v1/auth/session', {
      body: { email: user.email, password: user.password },
      headers: { origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('cross_site_request');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('answers 401 for a wrong password, with no cookie', async () => {
    const user = await t.user();
    const res = await t.request<{ code: string }>('POST', '/api/v1/auth/session', {
      body: { email: user.email, password: 'not-the-password' },
      headers: { origin },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid_credentials');
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('the session cookie on REST', () => {
  it('GET /api/v1/auth/session names the account, and null without a cookie (200 both)', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const signedIn = await t.request<{ user: { id: string } | null }>('GET', '/api/v1/auth/session', {
      headers: { cookie },
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user?.id).toBe(user.id);
    const anonymous = await t.request<{ user: null }>('GET', '/api/v1/auth/session');
    expect(anonymous).toMatchObject({ status: 200, body: { user: null } });
  });

  it('signs in private reads, and writes sent from this origin', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const me = await t.request<{ id: string }>('GET', '/api/v1/auth/me', { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
    const created = await t.request<{ key: string }>('POST', '/api/v1/api-keys', {
      body: { name: 'from the console', scopes: ['read'] },
      headers: { cookie, origin },
    });
    expect(created.status).toBe(201);
    // Sec-Fetch-Site is what a browser sends when it leaves Origin out
    const viaFetchMetadata = await t.request('POST', '/api/v1/api-keys', {
      body: { name: 'fetch metadata', scopes: ['read'] },
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
    });
    expect(viaFetchMetadata.status).toBe(201);
  });

  it('refuses a write the cookie signs in when it comes from another site, or says nothing of where it came from', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const forged: Record<string, string>[] = [
      { cookie, origin: 'https://evil.example' },
      { cookie, 'sec-fetch-site': 'cross-site' },
      { cookie, origin: 'null' },
      { cookie },
    ];
    for (const headers of forged) {
      const res = await t.request<{ code: string }>('POST', '/api/v1/api-keys', {
        body: { name: 'forged', scopes: ['read'] },
        headers,
      });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.body.code).toBe('cross_site_request');
    }
    const keys = await t.request<{ items?: unknown[] } | unknown[]>('GET', '/api/v1/api-keys', { headers: { cookie } });
    expect(keys.status).toBe(200);
    expect(JSON.stringify(keys.body)).not.toContain('forged');
  });

  it('a bearer token is not held to the origin rule (no browser sends it on its own)', async () => {
    const user = await t.user();
    const res = await t.request('POST', '/api/v1/api-keys', {
      body: { name: 'script', scopes: ['read'] },
      headers: { ...user.auth, origin: 'https://elsewhere.example' },
    });
    expect(res.status).toBe(201);
  });

  it('a cookie whose session ended is no credential: public reads answer, private ones 401', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const out = await t.request('DELETE', '/api/v1/auth/session', { headers: { cookie, origin } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^rw_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    expect((await t.request('GET', '/api/v1/currencies', { headers: { cookie } })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/auth/me', { headers: { cookie } })).status).toBe(401);
    const session = await t.request<{ user: null }>('GET', '/api/v1/auth/session', { headers: { cookie } });
    expect(session.body.user).toBeNull();
    expect((await t.request('GET', '/api/v1/auth/session', { headers: { cookie: 'rw_session=garbage' } })).status).toBe(
      200,
    );
  });

  it('DELETE /api/v1/auth/session ends the session on the server, not only in this browser', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const token = cookie.slice('rw_session='.length);
    expect((await t.request('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    expect((await t.request('DELETE', '/api/v1/auth/session', { headers: { cookie, origin } })).status).toBe(204);
    expect((await t.request('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
  });

  it('a sign-out posted from another site is refused and the session lives on', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const res = await t.request('DELETE', '/api/v1/auth/session', {
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect((await t.request('GET', '/api/v1/auth/me', { headers: { cookie } })).status).toBe(200);
  });
});

describe('the session cookie on /ws', () => {
  const wsUrl = () => `${t.url.replace(/^http/, 'ws')}/ws`;

  it("signs in a socket opened by a page of this origin: the account's private channel is open to it", async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const ws = await WsClient.open(wsUrl(), { headers: { cookie, origin } });
    try {
      expect(await ws.waitFor((f) => f.type === 'authenticated')).toEqual({ type: 'authenticated', user_id: user.id });
      expect(await ws.subscribe(`alerts:${user.id}`)).toEqual({ type: 'subscribed', channel: `alerts:${user.id}` });
    } finally {
      ws.close();
    }
  });

  it('ignores the cookie on a socket opened by a page elsewhere: it stays anonymous', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    const ws = await WsClient.open(wsUrl(), { headers: { cookie, origin: 'https://evil.example' } });
    try {
      const answer = await ws.subscribe(`alerts:${user.id}`);
      expect(answer.type).toBe('error');
      expect(ws.frames.some((f) => f.type === 'authenticated')).toBe(false);
    } finally {
      ws.close();
    }
  });

  it('opens anonymous, without an error frame, for a cookie whose session ended', async () => {
    const user = await t.user();
    const { cookie } = await browserSignIn(user);
    await t.request('DELETE', '/api/v1/auth/session', { headers: { cookie, origin } });
    const ws = await WsClient.open(wsUrl(), { headers: { cookie, origin } });
    try {
      expect(await ws.subscribe('rates.binance')).toEqual({ type: 'subscribed', channel: 'rates.binance' });
      expect(ws.frames.map((f) => f.type)).toEqual(['welcome', 'subscribed']);
    } finally {
      ws.close();
    }
  });
});
