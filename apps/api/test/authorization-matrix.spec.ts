// The authorization matrix, generated from the route registry itself: every route the api mounts,
// called by every kind of caller — anonymous, a user and an admin with a session, API keys of each
// scope (an admin's key included), and an unconfirmed account where confirmation is required — and
// answered as its declaration (`auth`, `keyScope`, `allowUnconfirmed`) says. A route added later is
// in the matrix without anyone writing a row for it.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { keyAccessOf, type RouteSpec } from '../src/http/route.ts';
import { sessionToken, startTestApi, type TestApi, type TestUser } from './harness.ts';

let t: TestApi;
let strict: TestApi;
let user: TestUser;
let admin: TestUser;
const keys: Record<'read' | 'jobs' | 'alerts' | 'all' | 'admin', string> = {
  read: '',
  jobs: '',
  alerts: '',
  all: '',
  admin: '',
};

/** The codes with which the route layer refuses a caller before the handler runs. */
const GATE_CODES = new Set([
  'unauthorized',
  'forbidden',
  'session_required',
  'insufficient_scope',
  'email_unconfirmed',
]);

beforeAll(async () => {
  t = await startTestApi({ API_KEY_RATE_LIMIT: '100000' });
  strict = await startTestApi({ AUTH_REQUIRE_CONFIRMED_EMAIL: 'true' });
  [user, admin] = await Promise.all([t.user('user'), t.user('admin')]);
  const create = async (owner: TestUser, scopes: string[]) => {
    const res = await t.request<{ key: string }>('POST', '/api/v1/api-keys', {
      headers: owner.auth,
      body: { name: `matrix ${scopes.join('+')}`, scopes },
    });
    expect(res.status).toBe(201);
    return res.body.key;
  };
  keys.read = await create(user, ['read']);
  keys.jobs = await create(user, ['jobs']);
  keys.alerts = await create(user, ['alerts']);
  keys.all = await create(user, ['read', 'jobs', 'alerts']);
  keys.admin = await create(admin, ['read', 'jobs', 'alerts']);
});
afterAll(async () => {
  await strict?.close();
  await t?.close();
});

/** A concrete URL for a route: every path parameter filled with one valid-looking value. */
const urlOf = (route: RouteSpec) => route.path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');

type Expected = 'passes' | { status: 401 | 403; code: string };

async function call(api: TestApi, route: RouteSpec, headers: Record<string, string>) {
  return api.request<{ code?: string }>(route.method.toUpperCase(), urlOf(route), {
    headers,
    ...(route.method === 'get' || route.method === 'delete' ? {} : { body: {} }),
  });
}

function check(route: RouteSpec, who: string, res: { status: number; body: { code?: string } }, expected: Expected) {
  const where = `${route.method.toUpperCase()} ${route.path} as ${who}`;
  if (expected === 'passes') {
    const gated = (res.status === 401 || res.status === 403) && GATE_CODES.has(res.body?.code ?? '');
    expect(gated, `${where}: refused with ${res.status} ${res.body?.code}`).toBe(false);
    expect(res.status, where).not.toBe(401);
  } else {
    expect({ status: res.status, code: res.body?.code }, where).toEqual(expected);
  }
}

const routes = () => t.api.routes.routes.filter((r) => !r.hidden);

describe('the authorization matrix', () => {
  it('covers every mounted route', () => {
    expect(routes().length).toBeGreaterThan(30);
    const paths = routes().map((r) => `${r.method} ${r.path}`);
    for (const path of [
      'post /api/v1/auth/logout',
      'post /api/v1/api-keys',
      'delete /api/v1/api-keys/{id}',
      'post /api/v1/auth/password-reset',
      'post /api/v1/alerts',
      'get /api/v1/alerts',
      'get /api/v1/alerts/{id}',
      'patch /api/v1/alerts/{id}',
      'delete /api/v1/alerts/{id}',
      'post /api/v1/alerts/{id}/test',
      'get /api/v1/alerts/{id}/events',
    ]) {
      expect(paths).toContain(path);
    }
    // an alert is reached with the alerts scope alone, reads included (not the default read scope)
    for (const route of routes().filter((r) => r.path.startsWith('/api/v1/alerts'))) {
      expect({ path: `${route.method} ${route.path}`, need: keyAccessOf(route), auth: route.auth }).toEqual({
        path: `${route.method} ${route.path}`,
        need: 'alerts',
        auth: 'user',
      });
    }
  });

  it('refuses an anonymous caller exactly where a route needs an account', async () => {
    for (const route of routes()) {
      const access = route.auth ?? 'public';
      check(
        route,
        'anonymous',
        await call(t, route, {}),
        access === 'public' ? 'passes' : { status: 401, code: 'unauthorized' },
      );
    }
  });

  it('lets a user reach user routes, not admin ones; an admin reaches every route', async () => {
    for (const route of routes()) {
      const access = route.auth ?? 'public';
      // a fresh session per call: a route may end the session it is called with (logout)
      const asUser = { authorization: `Bearer ${await sessionToken(t.database.db, user.id, t.deps.settings)}` };
      const asAdmin = { authorization: `Bearer ${await sessionToken(t.database.db, admin.id, t.deps.settings)}` };
      check(
        route,
        'user',
        await call(t, route, asUser),
        access === 'admin' ? { status: 403, code: 'forbidden' } : 'passes',
      );
      check(route, 'admin', await call(t, route, asAdmin), 'passes');
    }
  });

  it('lets an API key reach only the routes its scopes allow, and never an admin route', async () => {
    const scopesOf = {
      read: ['read'],
      jobs: ['jobs'],
      alerts: ['alerts'],
      all: ['read', 'jobs', 'alerts'],
      admin: ['read', 'jobs', 'alerts'],
    };
    for (const route of routes()) {
      const access = route.auth ?? 'public';
      const need = keyAccessOf(route);
      for (const [name, key] of Object.entries(keys) as [keyof typeof keys, string][]) {
        let expected: Expected;
        if (need === false) expected = { status: 403, code: 'session_required' };
        else if (need !== 'any' && !scopesOf[name].includes(need))
          expected = { status: 403, code: 'insufficient_scope' };
        // a key acts with the role user, whoever owns it
        else if (access === 'admin') expected = { status: 403, code: 'forbidden' };
        else expected = 'passes';
        check(route, `a ${name} key`, await call(t, route, { 'x-api-key': key }), expected);
      }
    }
  });

  it('with AUTH_REQUIRE_CONFIRMED_EMAIL, refuses writes by an unconfirmed account except the account flows', async () => {
    const row = await strict.database.db
      .insertInto('users')
      .values({ email: `${randomUUID()}@matrix.test`, password_hash: 'x', name: null, role: 'admin' })
      .returning('id')
      .executeTakeFirstOrThrow();
    let refused = 0;
    for (const route of strict.api.routes.routes.filter((r) => !r.hidden)) {
      const access = route.auth ?? 'public';
      const token = await sessionToken(strict.database.db, row.id, strict.deps.settings);
      const gated = access !== 'public' && route.method !== 'get' && !route.allowUnconfirmed;
      if (gated) refused++;
      check(
        route,
        'an unconfirmed admin',
        await call(strict, route, { authorization: `Bearer ${token}` }),
        gated ? { status: 403, code: 'email_unconfirmed' } : 'passes',
      );
    }
    expect(refused).toBeGreaterThan(5);
  });
});
