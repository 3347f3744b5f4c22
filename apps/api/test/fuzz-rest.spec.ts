// Property-based fuzz of every REST route in the OpenAPI document: path parameters, query and body
// of the documented shape (the document's schemas, filtered by the zod contract the route validates
// with), mixed with hostile ones (NUL, lone surrogates, 1e308, deep nesting, duplicate keys, wrong
// types, long strings, broken encodings) and every kind of bearer token. Each case must answer
// below 500; a refusal (4xx) must be problem+json and must have written no row and
// published no NATS message. Replay a failing run with FUZZ_SEED=<seed> (printed with the
// counterexample); FUZZ_STATS=1 prints the answers each route gave.
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fuzz, fuzzCases, fuzzSummary, runs } from '@ratewire/testkit/fuzz';

import { routeCase, routesOf, unlistedCase, type OpenApiDocument, type Route } from './fuzz-http-cases.ts';
import { describeCase, startFuzzApi, type FuzzApi, type HttpCase, type HttpReply } from './fuzz-support.ts';

const doc = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as OpenApiDocument;
const ROUTES: Route[] = routesOf(doc);

/** Cases per route; the password routes cost an argon2 hash or verify each, so they get fewer. */
const budget = (r: Route) => runs(/\/auth\/(register|login)$/.test(r.path) ? 150 : 220);
const UNLISTED_RUNS = runs(300);

let f: FuzzApi;
const statuses = new Map<string, Map<number, number>>();
const timings = new Map<string, number>();
let current = '';

beforeAll(async () => {
  f = await startFuzzApi();
}, 120_000);

afterAll(async () => {
  if (fuzzCases()) process.stdout.write(`${fuzzSummary()}\n`);
  if (process.env.FUZZ_STATS === '1') {
    for (const [route, counts] of statuses) {
      const line = [...counts].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
      const ms = timings.get(route);
      process.stdout.write(`  ${route}: ${line.join(' ')}${ms === undefined ? '' : ` (${Math.round(ms)} ms)`}\n`);
    }
  }
  await f?.close();
});

function refused(c: HttpCase, reply: HttpReply, why: string): never {
  throw new Error(`${why}\n  ${describeCase(c, reply, f.tokens)}`);
}

let unsettled = false;

/** Sends one case: below 500, and a refusal wrote and published nothing. */
async function check(c: HttpCase): Promise<void> {
  // what an accepted case published must have arrived before this case is judged
  if (unsettled) await f.nats.settle(f.env.deps.nats);
  const mark = await f.writes.mark();
  const published = f.nats.messages.length;
  const reply = await f.send(c);
  const counts = statuses.get(current) ?? new Map<number, number>();
  counts.set(reply.status, (counts.get(reply.status) ?? 0) + 1);
  statuses.set(current, counts);
  if (reply.status >= 500) refused(c, reply, `answered ${reply.status}`);
  unsettled = reply.status < 400;
  if (unsettled) return;
  // 431: the request head is past Node's limit, answered by its HTTP parser before any of our code
  if (reply.status !== 431 && c.method !== 'HEAD') {
    if (!String(reply.headers['content-type']).startsWith('application/problem+json')) {
      refused(c, reply, `a ${reply.status} that is not problem+json (${reply.headers['content-type']})`);
    }
    const problem = JSON.parse(reply.text) as { status?: number };
    if (problem.status !== reply.status) refused(c, reply, 'the problem names another status');
  }
  const writes = await f.writesSince(mark);
  if (writes.length) refused(c, reply, `refused, yet wrote ${JSON.stringify(writes.slice(0, 5))}`);
  await f.nats.settle(f.env.deps.nats);
  const events = f.nats.messages.slice(published);
  if (events.length) refused(c, reply, `refused, yet published ${JSON.stringify(events.slice(0, 3))}`);
}

describe('REST fuzz: every route of the OpenAPI document', () => {
  it('covers every route the api serves', () => {
    const listed = (paths: object) =>
      Object.entries(paths as Record<string, object>)
        .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
        .sort();
    expect(listed(f.env.api.openapi().paths)).toEqual(listed(doc.paths));
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.path}: never 5xx, a refusal writes nothing`, async () => {
      const spec = f.env.api.routes.routes.find((r) => r.operationId === route.op.operationId);
      if (!spec) throw new Error(`no registered route ${route.op.operationId}`);
      const n = budget(route);
      current = `${route.method} ${route.path}`;
      const t0 = performance.now();
      expect(await fuzz(current, routeCase({ f, doc, spec }, route), check, n)).toBe(n);
      timings.set(current, performance.now() - t0);
    }, 300_000);
  }

  it('unlisted paths and methods: never 5xx, a refusal writes nothing', async () => {
    current = 'unlisted';
    expect(await fuzz('unlisted', unlistedCase, check, UNLISTED_RUNS)).toBe(UNLISTED_RUNS);
  }, 300_000);

  it('the api is healthy and answering afterwards', async () => {
    expect((await f.send({ method: 'GET', path: '/healthz', headers: {} })).status).toBe(200);
    const ready = await f.send({ method: 'GET', path: '/readyz', headers: {} });
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'ok' });
    const login = await f.send({
      method: 'POST',
      path: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.1' },
      body: JSON.stringify({ email: f.tokens.admin.email, password: f.tokens.admin.password }),
    });
    expect(login.status).toBe(200);
    const rows = await f.env.database.db.selectFrom('currencies').select('id').execute();
    const list = await f.send({ method: 'GET', path: '/api/v1/currencies?limit=1000', headers: {} });
    expect(list.status).toBe(200);
    expect((JSON.parse(list.text) as { items: unknown[] }).items).toHaveLength(rows.length);
    expect(fuzzCases()).toBeGreaterThanOrEqual(ROUTES.reduce((sum, r) => sum + budget(r), UNLISTED_RUNS));
  });
});
