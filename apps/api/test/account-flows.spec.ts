// The account flows over HTTP against two api replicas on one database: confirming an address,
// resetting and changing a password, logging out (one session, every session), and the
// confirmed-email gate. Link tokens are issued here as the worker issues them when it mails
// (account-mail.spec.ts follows the same flows through real mail).
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { issueLinkToken } from '@ratewire/db';

import { startTestApi, type TestApi, type TestUser } from './harness.ts';

let a: TestApi;
let b: TestApi;

beforeAll(async () => {
  a = await startTestApi({ TRUST_PROXY: 'true' });
  b = await startTestApi({ TRUST_PROXY: 'true' }, { shareWith: a });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** A client address of its own, so the per-client limits of one test do not reach another. */
const fromAddress = () => ({ 'x-forwarded-for': `10.${rnd()}.${rnd()}.${rnd()}` });
const rnd = () => Math.floor(Math.random() * 250) + 1;

async function login(api: TestApi, email: string, password: string): Promise<string> {
  const res = await api.request<{ access_token: string }>('POST', '/api/v1/auth/login', {
    body: { email, password },
    headers: fromAddress(),
  });
  expect(res.status).toBe(200);
  return res.body.access_token;
}

async function register(): Promise<{ id: string; email: string; password: string }> {
  const email = `${randomUUID()}@flows.test`;
  const password = `pw-${randomUUID()}`;
  const res = await a.request<{ id: string; email_confirmed: boolean }>('POST', '/api/v1/auth/register', {
    body: { email, password },
  });
  expect(res.status).toBe(201);
  expect(res.body.email_confirmed).toBe(false);
  return { id: res.body.id, email, password };
}

const me = (api: TestApi, token: string) => api.request('GET', '/api/v1/auth/me', { headers: bearer(token) });

/** Polls until `check` holds (a change reaches a replica through NOTIFY in milliseconds); throws after 5 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > 5000) throw new Error(`${what}: not within 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe('POST /api/v1/auth/register', () => {
  it('queues one confirmation mail with the account, in the same statement', async () => {
    const u = await register();
    const rows = await a.database.db
      .selectFrom('mail_outbox')
      .select(['kind', 'to_address', 'status'])
      .where('user_id', '=', u.id)
      .execute();
    expect(rows).toEqual([{ kind: 'confirm_email', to_address: u.email, status: 'pending' }]);
    // a taken address queues nothing more
    const again = await a.request('POST', '/api/v1/auth/register', {
      body: { email: u.email, password: 'x'.repeat(9) },
    });
    expect(again.status).toBe(409);
    const count = await a.database.db
      .selectFrom('mail_outbox')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('to_address', '=', u.email)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });
});

describe('POST /api/v1/auth/confirm', () => {
  it('confirms the address once; the account shows it on every replica', async () => {
    const u = await register();
    const token = await login(a, u.email, u.password);
    expect((await me(b, token)).body).toMatchObject({ email_confirmed: false });
    const link = await issueLinkToken(a.database.db, { userId: u.id, purpose: 'confirm_email', email: u.email });
    const res = await b.request('POST', '/api/v1/auth/confirm', { body: { token: link.token } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, email_confirmed: true });
    expect((await me(a, token)).body).toMatchObject({ email_confirmed: true });
    const reuse = await a.request('POST', '/api/v1/auth/confirm', { body: { token: link.token } });
    expect(reuse.status).toBe(400);
    expect(reuse.body).toMatchObject({ code: 'link_used' });
  });

  it('refuses an expired, replaced, tampered or unknown token, and a token of another purpose', async () => {
    const u = await register();
    const db = a.database.db;
    const expired = await issueLinkToken(db, { userId: u.id, purpose: 'confirm_email', email: u.email });
    await db
      .updateTable('link_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('voided_at', 'is', null)
      .where('user_id', '=', u.id)
      .execute();
    const older = await issueLinkToken(db, { userId: u.id, purpose: 'confirm_email', email: u.email });
    const latest = await issueLinkToken(db, { userId: u.id, purpose: 'confirm_email', email: u.email });
    const reset = await issueLinkToken(db, { userId: u.id, purpose: 'password_reset', email: u.email });
    const flip = (t: string) => (t[0] === 'A' ? 'B' : 'A') + t.slice(1);
    const cases: [string, string][] = [
      [expired.token, 'link_replaced'], // voided by the next issue, which also outranks its expiry
      [older.token, 'link_replaced'],
      [flip(latest.token), 'link_invalid'],
      ['not-a-token', 'link_invalid'],
      [reset.token, 'link_invalid'],
    ];
    for (const [token, code] of cases) {
      const res = await a.request('POST', '/api/v1/auth/confirm', { body: { token } });
      expect(res.status, code).toBe(400);
      expect(res.body).toMatchObject({ code });
    }
    // an expired one that nothing replaced
    await db
      .updateTable('link_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', u.id)
      .execute();
    const late = await a.request('POST', '/api/v1/auth/confirm', { body: { token: latest.token } });
    expect(late.body).toMatchObject({ code: 'link_expired' });
    // a reset token is still no confirmation after all that
    expect((await a.request('POST', '/api/v1/auth/confirm', { body: { token: reset.token } })).body).toMatchObject({
      code: 'link_invalid',
    });
  });

  it('lets only one of two simultaneous uses of a token succeed', async () => {
    const u = await register();
    const link = await issueLinkToken(a.database.db, { userId: u.id, purpose: 'confirm_email', email: u.email });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).request('POST', '/api/v1/auth/confirm', { body: { token: link.token } }),
      ),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 400)).toHaveLength(7);
  });
});

describe('the confirmation page', () => {
  it('shows a form on GET without using the token, and confirms on POST', async () => {
    const u = await register();
    const link = await issueLinkToken(a.database.db, { userId: u.id, purpose: 'confirm_email', email: u.email });
    for (let i = 0; i < 3; i++) {
      // a mail scanner prefetching the link changes nothing
      const page = await a.request('GET', `/account/confirm?token=${link.token}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.text).toContain('<form method="post" action="/account/confirm">');
      expect(page.text).toContain(`value="${link.token}"`);
    }
    const posted = await a.request('POST', '/account/confirm', {
      body: `token=${link.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(posted.status).toBe(200);
    expect(posted.text).toContain('is confirmed');
    const again = await a.request('POST', '/account/confirm', {
      body: `token=${link.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(again.status).toBe(400);
    expect(again.text).toContain('already been used');
  });

  it('escapes what it echoes and answers a missing token with 400', async () => {
    const hostile = await a.request('GET', '/account/confirm?token=%22%3E%3Cscript%3E');
    expect(hostile.text).not.toContain('<script>');
    expect(hostile.text).toContain('value="&quot;&gt;&lt;script&gt;"');
    expect((await a.request('GET', '/account/reset-password')).status).toBe(400);
    const post = await a.request('POST', '/account/reset-password', {
      body: 'token=x&password=short',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(post.status).toBe(422);
    expect(post.text).toContain('at least 8 characters');
  });
});

describe('POST /api/v1/auth/password-reset', () => {
  it('answers 202 for a known and an unknown address, having written the same row for both', async () => {
    const u = await register();
    const unknown = `${randomUUID()}@flows.test`;
    for (const email of [u.email.toUpperCase(), unknown]) {
      const res = await a.request('POST', '/api/v1/auth/password-reset', { body: { email }, headers: fromAddress() });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ status: 'queued' });
    }
    // the worker tells them apart when it sends (account-mail.spec.ts): here both are alike
    const rows = await a.database.db
      .selectFrom('mail_outbox')
      .select(['kind', 'status', 'user_id', 'to_address'])
      .where('kind', '=', 'password_reset')
      .where('to_address', 'in', [u.email, unknown])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { kind: 'password_reset', status: 'pending', user_id: null, to_address: u.email },
      { kind: 'password_reset', status: 'pending', user_id: null, to_address: unknown },
    ]);
  });

  it('does the same database work for a known and an unknown address: nothing there could tell them apart', async () => {
    // every statement the api's pool runs while one request is answered (the api runs on this pool)
    const pool = a.database.pool;
    let seen: string[] | null = null;
    const patched = new WeakSet<object>();
    const watch = (client: { query: (...args: unknown[]) => unknown }) => {
      if (patched.has(client)) return;
      patched.add(client);
      const query = client.query.bind(client);
      client.query = (...args: unknown[]) => {
        const q = args[0] as string | { text?: string };
        seen?.push(typeof q === 'string' ? q : (q.text ?? ''));
        return query(...args);
      };
    };
    pool.on('acquire', watch);
    const statements = async (email: string) => {
      seen = [];
      const res = await a.request('POST', '/api/v1/auth/password-reset', { body: { email }, headers: fromAddress() });
      expect(res.status).toBe(202);
      const got = seen;
      seen = null;
      return got;
    };
    try {
      const u = await register();
      // a warm-up of each, then the two compared: the same statements, in the same order
      await statements(u.email);
      await statements(`${randomUUID()}@flows.test`);
      const known = await statements(u.email.toUpperCase());
      const unknown = await statements(`${randomUUID()}@flows.test`);
      expect(known.length).toBeGreaterThan(0);
      expect(known.some((q) => q.includes('mail_outbox'))).toBe(true);
      expect(known.some((q) => /\busers\b/.test(q))).toBe(false);
      expect(unknown).toEqual(known);
    } finally {
      pool.off('acquire', watch);
    }
  });

  it('limits requests per address (429 with Retry-After), the same for known and unknown ones', async () => {
    const u = await register();
    for (const email of [u.email, `${randomUUID()}@flows.test`]) {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 6; i++) {
        const res = await a.request('POST', '/api/v1/auth/password-reset', { body: { email }, headers: fromAddress() });
        statuses.push(res.status);
        retryAfter ??= res.headers.get('retry-after');
      }
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    }
  });

  it('sets the new password with the reset token; every earlier session is refused on every replica', async () => {
    const u = await register();
    const [t1, t2] = [await login(a, u.email, u.password), await login(b, u.email, u.password)];
    const link = await issueLinkToken(a.database.db, { userId: u.id, purpose: 'password_reset', email: u.email });
    const res = await a.request('POST', '/api/v1/auth/password-reset/confirm', {
      body: { token: link.token, password: 'a-brand-new-password' },
    });
    expect(res.status).toBe(204);
    for (const api of [a, b]) {
      for (const t of [t1, t2]) {
        await eventually(async () => (await me(api, t)).status === 401, 'the old session refused');
        expect((await me(api, t)).body).toMatchObject({ code: 'session_ended' });
      }
    }
    const old = await a.request('POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
      headers: fromAddress(),
    });
    expect(old.status).toBe(401);
    const fresh = await login(b, u.email, 'a-brand-new-password');
    expect((await me(a, fresh)).status).toBe(200);
    // the token worked once
    const reuse = await a.request('POST', '/api/v1/auth/password-reset/confirm', {
      body: { token: link.token, password: 'yet-another-password' },
    });
    expect(reuse.body).toMatchObject({ code: 'link_used' });
  });
});

describe('POST /api/v1/auth/password, /logout, /logout-all', () => {
  async function signedIn(): Promise<{
    u: { id: string; email: string; password: string };
    mine: string;
    other: string;
  }> {
    const u = await register();
    return { u, mine: await login(a, u.email, u.password), other: await login(b, u.email, u.password) };
  }

  it('changes the password: this session stays, the others end on every replica', async () => {
    const { u, mine, other } = await signedIn();
    const wrong = await a.request('POST', '/api/v1/auth/password', {
      body: { current_password: 'not-it', new_password: 'another-password-1' },
      headers: { ...bearer(mine), ...fromAddress() },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ code: 'wrong_password' });
    const ok = await a.request('POST', '/api/v1/auth/password', {
      body: { current_password: u.password, new_password: 'another-password-1' },
      headers: { ...bearer(mine), ...fromAddress() },
    });
    expect(ok.status).toBe(204);
    for (const api of [a, b]) {
      await eventually(async () => (await me(api, other)).status === 401, 'the other session refused');
      expect((await me(api, mine)).status).toBe(200);
    }
    expect(await login(a, u.email, 'another-password-1')).toBeTruthy();
  });

  it('logs out one session on every replica, and logout-all ends every one', async () => {
    const { u, mine, other } = await signedIn();
    expect((await a.request('POST', '/api/v1/auth/logout', { headers: bearer(mine) })).status).toBe(204);
    await eventually(async () => (await me(b, mine)).status === 401, 'logout seen by the other replica');
    expect((await me(b, other)).status).toBe(200);
    // a logged-out token cannot log out again, nor reach anything else
    expect((await a.request('POST', '/api/v1/auth/logout', { headers: bearer(mine) })).status).toBe(401);
    const third = await login(a, u.email, u.password);
    expect((await b.request('POST', '/api/v1/auth/logout-all', { headers: bearer(third) })).status).toBe(204);
    for (const api of [a, b]) {
      for (const t of [other, third]) {
        await eventually(async () => (await me(api, t)).status === 401, 'logout-all');
      }
    }
    expect((await me(a, await login(a, u.email, u.password))).status).toBe(200);
  });

  it('needs a session: an anonymous caller gets 401', async () => {
    for (const path of ['/api/v1/auth/logout', '/api/v1/auth/logout-all', '/api/v1/auth/confirm/resend']) {
      expect((await a.request('POST', path)).status).toBe(401);
    }
  });
});

describe('POST /api/v1/auth/confirm/resend', () => {
  it('queues a new confirmation for an unconfirmed account, and 409 once confirmed', async () => {
    const u = await register();
    const token = await login(a, u.email, u.password);
    const res = await a.request('POST', '/api/v1/auth/confirm/resend', {
      headers: { ...bearer(token), ...fromAddress() },
    });
    expect(res.status).toBe(202);
    const queued = await a.database.db.selectFrom('mail_outbox').select('kind').where('user_id', '=', u.id).execute();
    expect(queued).toEqual([{ kind: 'confirm_email' }, { kind: 'confirm_email' }]);
    await a.database.db.updateTable('users').set({ email_confirmed_at: new Date() }).where('id', '=', u.id).execute();
    const done = await a.request('POST', '/api/v1/auth/confirm/resend', {
      headers: { ...bearer(token), ...fromAddress() },
    });
    expect(done.status).toBe(409);
    expect(done.body).toMatchObject({ code: 'already_confirmed' });
  });
});

describe('AUTH_REQUIRE_CONFIRMED_EMAIL=true', () => {
  let strict: TestApi;
  beforeAll(async () => {
    strict = await startTestApi({ AUTH_REQUIRE_CONFIRMED_EMAIL: 'true' });
  });
  afterAll(async () => {
    await strict?.close();
  });

  const submit = (user: TestUser) =>
    strict.request('POST', '/api/v1/exchange-jobs', {
      headers: user.auth,
      body: {
        request_id: randomUUID(),
        exchange_rate: '75.5',
        bills: [{ denomination_id: 1, denomination: 10, count: 5 }],
      },
    });

  it('answers writes by an unconfirmed account with 403 email_unconfirmed, and lets it through once confirmed', async () => {
    const user = await strict.user();
    const refused = await submit(user);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'email_unconfirmed' });
    // reads and the account flows stay open
    expect((await strict.request('GET', '/api/v1/auth/me', { headers: user.auth })).status).toBe(200);
    expect((await strict.request('POST', '/api/v1/auth/confirm/resend', { headers: user.auth })).status).toBe(202);
    await strict.database.db
      .updateTable('users')
      .set({ email_confirmed_at: new Date() })
      .where('id', '=', user.id)
      .execute();
    await eventually(async () => (await submit(user)).status === 202, 'the confirmation to be seen');
  });
});
