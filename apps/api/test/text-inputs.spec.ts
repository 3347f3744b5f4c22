// Text Postgres cannot hold (U+0000; an unpaired UTF-16 surrogate, which jsonb refuses) is refused
// where the input is parsed: 422 naming the field (400 on the compatible /api/exchange_async),
// never a 500 from the database, and nothing is written. One table over every text field of the
// REST bodies, queries and paths and of the /ws frames; then every string field of every route's
// contract, so that a field added later without `text()` fails here.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { TEXT_REFUSED_MESSAGE } from '@ratewire/contracts/text.schemas';

import type { TestUser } from './harness.ts';
import { startRestApi, type RestEnv } from './rest-support.ts';
import { WsClient } from './ws-harness.ts';

let t: RestEnv;
let user: TestUser;
let admin: TestUser;
let currencyId: number;
const sockets: WsClient[] = [];

beforeAll(async () => {
  t = await startRestApi();
  [user, admin] = await Promise.all([t.user('user'), t.user('admin')]);
  const created = await t.request<{ id: number }>('POST', '/api/v1/currencies', {
    body: { code: 'QTX', name: 'Text test', rate: '10.5' },
    headers: admin.auth,
  });
  expect(created.status).toBe(201);
  currencyId = created.body.id;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
});

/** JSON can carry all of these; a URL only NUL (a lone surrogate has no UTF-8 form to percent-encode). */
const BAD_TEXT: [string, string][] = [
  ['a NUL', 'ab\u0000cd'],
  ['a lone NUL', '\u0000'],
  ['an unpaired high surrogate', 'ab\ud800cd'],
  ['an unpaired low surrogate', '\udc00'],
  ['a surrogate pair in the wrong order', 'x\udc00\ud800'],
];
const NUL_IN_URL = encodeURIComponent('ab\u0000');

interface BodyCase {
  /** The field path the 422 must name. */
  field: string;
  method: 'POST' | 'PATCH';
  path: string;
  auth?: 'user' | 'admin';
  status?: number;
  body: (bad: string) => Record<string, unknown>;
}

const bills = [{ denomination_id: 1, denomination: 10, count: 5 }];
const jobBody = (over: Record<string, unknown>) => ({
  request_id: randomUUID(),
  exchange_rate: '75.5',
  bills,
  ...over,
});
const fresh = () => `text-${randomUUID()}@example.test`;

const BODY_CASES: BodyCase[] = [
  // anonymous
  {
    field: 'body.email',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: (v) => ({ email: v, password: 'pw-12345678' }),
  },
  {
    field: 'body.username',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: (v) => ({ username: v, password: 'pw-12345678' }),
  },
  {
    field: 'body.password',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: (v) => ({ email: 'a@example.test', password: v }),
  },
  {
    field: 'body.grant_type',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: (v) => ({ email: 'a@example.test', password: 'pw-12345678', grant_type: v }),
  },
  {
    field: 'body.scope',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: (v) => ({ email: 'a@example.test', password: 'pw-12345678', scope: v }),
  },
  {
    field: 'body.email',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: (v) => ({ email: `${v}@example.test`, password: 'long-enough-pw' }),
  },
  {
    field: 'body.password',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: (v) => ({ email: fresh(), password: `long-enough-${v}` }),
  },
  {
    field: 'body.name',
    method: 'POST',
    path: '/api/v1/auth/register',
    body: (v) => ({ email: fresh(), password: 'long-enough-pw', name: v }),
  },
  { field: 'body.currency', method: 'POST', path: '/api/v1/exchange/calculate', body: (v) => ({ currency: v, bills }) },
  // exchange jobs, v1 and the compatible alias
  ...(['/api/v1/exchange-jobs', '/api/exchange_async'] as const).flatMap((path): BodyCase[] => {
    const status = path === '/api/exchange_async' ? 400 : 422;
    return [
      { field: 'body.request_id', method: 'POST', path, auth: 'user', status, body: (v) => jobBody({ request_id: v }) },
      {
        field: 'body.request_id',
        method: 'POST',
        path,
        auth: 'user',
        status,
        body: (v) => jobBody({ request_id: `req-${v}` }),
      },
      {
        field: 'body.callback_url',
        method: 'POST',
        path,
        auth: 'user',
        status,
        body: (v) => jobBody({ callback_url: `https://example.com/cb?${v}` }),
      },
      {
        field: 'body.callback_url',
        method: 'POST',
        path,
        auth: 'user',
        status,
        body: (v) => jobBody({ callback_url: `https://example.com/${v}/cb` }),
      },
      {
        field: 'body.currency',
        method: 'POST',
        path,
        auth: 'user',
        status,
        body: (v) => jobBody({ exchange_rate: undefined, currency: v }),
      },
    ];
  }),
  // currencies (admin), v1 and the Currency-API service’s shape
  {
    field: 'body.name',
    method: 'POST',
    path: '/api/v1/currencies',
    auth: 'admin',
    body: (v) => ({ code: 'QTY', name: v, rate: '1.5' }),
  },
  {
    field: 'body.code',
    method: 'POST',
    path: '/api/v1/currencies',
    auth: 'admin',
    body: (v) => ({ code: v, rate: '1.5' }),
  },
  { field: 'body.name', method: 'PATCH', path: '/api/v1/currencies/{id}', auth: 'admin', body: (v) => ({ name: v }) },
  {
    field: 'body.name',
    method: 'PATCH',
    path: '/api/v1/currencies/{id}',
    auth: 'admin',
    body: (v) => ({ name: `Yen ${v}`, rate: '2' }),
  },
  { field: 'body.code', method: 'PATCH', path: '/api/v1/currencies/{id}', auth: 'admin', body: (v) => ({ code: v }) },
  {
    field: 'body.currency',
    method: 'POST',
    path: '/currencies',
    auth: 'admin',
    body: (v) => ({ currency: v, rate: 1.5 }),
  },
  { field: 'body.currency', method: 'PATCH', path: '/currencies/{id}', auth: 'admin', body: (v) => ({ currency: v }) },
];

/** Every row a refused request could have touched. */
async function snapshot() {
  const db = t.database.db;
  const [users, currencies, jobs, outbox] = await Promise.all([
    db
      .selectFrom('users')
      .select(['id', 'email', 'name', 'role', 'password_hash', 'updated_at'])
      .orderBy('id')
      .execute(),
    db.selectFrom('currencies').selectAll().orderBy('id').execute(),
    db.selectFrom('exchange_jobs').select(['id', 'request_id']).orderBy('id').execute(),
    db.selectFrom('outbox').select(['id']).orderBy('id').execute(),
  ]);
  return { users, currencies, jobs, outbox };
}

const headersFor = (auth: BodyCase['auth']) => (auth === 'admin' ? admin.auth : auth === 'user' ? user.auth : {});

describe('text fields of REST bodies', () => {
  const table = BODY_CASES.flatMap((c) => BAD_TEXT.map(([what, value]) => ({ ...c, what, value })));

  it.each(table)('$method $path refuses $what in $field', async (c) => {
    const before = await snapshot();
    const res = await t.request<{ code: string; errors: { path: string; message: string }[] }>(
      c.method,
      c.path.replace('{id}', String(currencyId)),
      { body: c.body(c.value), headers: headersFor(c.auth) },
    );
    expect(res.status, res.text).toBe(c.status ?? 422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual([{ path: c.field, message: TEXT_REFUSED_MESSAGE }]);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses NUL in the OAuth2 form login too', async () => {
    const res = await t.request<{ errors: { path: string }[] }>('POST', '/api/v1/auth/login', {
      body: `username=a%00b%40example.test&password=pw-12345678&grant_type=password`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'body.username', message: TEXT_REFUSED_MESSAGE }]);
  });

  it('still accepts text with characters outside the BMP (a well-formed surrogate pair)', async () => {
    const res = await t.request<{ name: string }>('PATCH', `/api/v1/currencies/${currencyId}`, {
      body: { name: 'Coin 🪙 ½' },
      headers: admin.auth,
    });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Coin 🪙 ½');
    const job = await t.request('POST', '/api/v1/exchange-jobs', {
      body: jobBody({ request_id: `emoji-🪙-${randomUUID()}` }),
      headers: user.auth,
    });
    expect(job.status).toBe(202);
  });
});

describe('text in queries and paths', () => {
  const cases: { field: string; url: string; auth?: BodyCase['auth'] }[] = [
    { field: 'query.symbols', url: `/api/v1/rates/cbr/latest?symbols=USD,${NUL_IN_URL}` },
    { field: 'query.symbol', url: `/api/v1/rates/cbr/series?symbol=${NUL_IN_URL}` },
    { field: 'query.from', url: `/api/v1/rates/cbr/series?symbol=USD&from=2026-01-01${NUL_IN_URL}` },
    { field: 'query.to', url: `/api/v1/rates/cbr/series?symbol=USD&to=${NUL_IN_URL}` },
    { field: 'path.date', url: `/api/v1/rates/cbr/2026-01-01${NUL_IN_URL}` },
    { field: 'query.symbols', url: `/api/v1/rates/binance?symbols=${NUL_IN_URL}` },
    { field: 'path.symbol', url: `/api/v1/rates/binance/BTC${NUL_IN_URL}` },
    { field: 'query.from', url: `/api/v1/convert?from=${NUL_IN_URL}&to=EUR&amount=1` },
    { field: 'query.to', url: `/api/v1/convert?from=USD&to=${NUL_IN_URL}&amount=1` },
    { field: 'query.date', url: `/api/v1/convert?from=USD&to=EUR&amount=1&date=${NUL_IN_URL}` },
    { field: 'path.symbol', url: `/symbols/get/${NUL_IN_URL}` },
    { field: 'path.id', url: `/api/v1/tasks/${NUL_IN_URL}`, auth: 'admin' },
    { field: 'path.id', url: `/api/v1/exchange-jobs/${NUL_IN_URL}`, auth: 'user' },
  ];

  it.each(cases)('GET $url answers 422 naming $field', async (c) => {
    const res = await t.request<{ errors: { path: string }[] }>('GET', c.url, { headers: headersFor(c.auth) });
    expect(res.status, res.text).toBe(422);
    expect(res.body.errors.map((e) => e.path)).toEqual([c.field]);
  });
});

describe('text in /ws frames', () => {
  const frames: [string, string, (v: string) => unknown][] = [
    ['subscribe.channel', 'channel', (v) => ({ op: 'subscribe', channel: `rates.cbr${v}` })],
    ['subscribe.since', 'since', (v) => ({ op: 'subscribe', channel: 'rates.cbr', since: `1-${v}` })],
    ['unsubscribe.channel', 'channel', (v) => ({ op: 'unsubscribe', channel: v })],
    ['auth.token', 'token', (v) => ({ op: 'auth', token: `${user.token}${v}` })],
  ];
  const table = frames.flatMap(([name, field, frame]) =>
    BAD_TEXT.map(([what, value]) => ({ name, field, frame, what, value })),
  );

  it.each(table)('answers bad_request naming the field to $what in $name', async (c) => {
    const ws = await WsClient.open(`${t.url.replace('http', 'ws')}/ws`);
    sockets.push(ws);
    const from = ws.frames.length;
    ws.send(c.frame(c.value));
    expect(await ws.waitFor((f) => f.type === 'error' || f.type === 'subscribed', from)).toEqual({
      type: 'error',
      code: 'bad_request',
      message: `${c.field}: ${TEXT_REFUSED_MESSAGE}`,
    });
  });
});

describe('every string field of every route contract', () => {
  type Json = Record<string, unknown>;

  /** A string-accepting leaf: its path (segments, `0` for array items), and the discriminators that reach it. */
  interface Leaf {
    path: string[];
    /** Within a union, the alternative's required const or enum fields (their first value), so the leaf is parsed. */
    fill: { path: string[]; value: unknown }[];
  }

  const resolve = (node: Json, defs: Record<string, Json>): Json =>
    typeof node.$ref === 'string' ? resolve(defs[node.$ref.replace('#/$defs/', '')]!, defs) : node;

  /** Every string-accepting leaf of a JSON schema. */
  function stringLeaves(node: Json, defs: Record<string, Json>, at: string[] = []): Leaf[] {
    node = resolve(node, defs);
    const alternatives = [...((node.anyOf ?? []) as Json[]), ...((node.oneOf ?? []) as Json[])];
    if (alternatives.length) {
      const found = alternatives.flatMap((alt) => {
        const option = resolve(alt, defs);
        const required = new Set((option.required ?? []) as string[]);
        const tags = Object.entries((option.properties ?? {}) as Record<string, Json>).flatMap(([k, v]) => {
          const p = resolve(v, defs);
          const value = 'const' in p ? p.const : Array.isArray(p.enum) ? (p.enum as unknown[])[0] : undefined;
          return required.has(k) && value !== undefined ? [{ path: [...at, k], value }] : [];
        });
        return stringLeaves(option, defs, at).map((leaf) => ({
          path: leaf.path,
          fill: [...tags.filter((tag) => tag.path.join('.') !== leaf.path.join('.')), ...leaf.fill],
        }));
      });
      return found.filter((l, i) => found.findIndex((m) => m.path.join('.') === l.path.join('.')) === i);
    }
    if (node.type === 'string') return [{ path: at, fill: [] }];
    if (node.type === 'object' && node.properties) {
      return Object.entries(node.properties as Record<string, Json>).flatMap(([k, v]) =>
        stringLeaves(v, defs, [...at, k]),
      );
    }
    if (node.type === 'array' && node.items) return stringLeaves(node.items as Json, defs, [...at, '0']);
    return [];
  }

  function withValue(path: string[], value: string, into?: unknown): unknown {
    if (!path.length) return value;
    const [head, ...rest] = path;
    if (head === '0') return [withValue(rest, value, Array.isArray(into) ? into[0] : undefined)];
    const base = (into && typeof into === 'object' ? into : {}) as Json;
    return { ...base, [head!]: withValue(rest, value, base[head!]) };
  }

  /** The leaf's value, with the discriminators that lead to it. */
  function bodyFor(leaf: Leaf, value: string): unknown {
    let body: unknown = undefined;
    for (const tag of leaf.fill) body = withValue(tag.path, tag.value as string, body);
    return withValue(leaf.path, value, body);
  }

  it('refuses NUL and unpaired surrogates at the field itself, in params, queries and bodies', () => {
    const checked: string[] = [];
    const missed: string[] = [];
    for (const route of t.api.routes.routes) {
      for (const part of ['params', 'query', 'body'] as const) {
        const schema = route[part];
        if (!schema) continue;
        const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
        for (const leaf of stringLeaves(json, (json.$defs ?? {}) as Record<string, Json>)) {
          const at = leaf.path.join('.');
          for (const [, bad] of BAD_TEXT) {
            const result = schema.safeParse(bodyFor(leaf, bad));
            const name = `${route.method.toUpperCase()} ${route.path} ${part}.${at}`;
            const refused = !result.success && result.error.issues.some((i) => i.path.map(String).join('.') === at);
            if (!refused) missed.push(`${name} accepts ${JSON.stringify(bad)}`);
            checked.push(name);
          }
        }
      }
    }
    expect(missed).toEqual([]);
    // the walk really covers the fields named above
    for (const name of [
      'POST /api/v1/auth/login body.email',
      'POST /api/v1/auth/register body.name',
      'POST /api/v1/exchange-jobs body.request_id',
      'POST /api/v1/exchange-jobs body.callback_url',
      'POST /api/exchange_async body.request_id',
      'POST /api/v1/currencies body.name',
      'PATCH /api/v1/currencies/{id} body.name',
      'GET /api/v1/convert query.from',
      'POST /api/v1/alerts body.condition.level',
      'POST /api/v1/alerts body.condition.window',
      'PATCH /api/v1/alerts/{id} body.condition.threshold_pct',
    ]) {
      expect(checked).toContain(name);
    }
  });
});
