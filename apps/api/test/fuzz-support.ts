// The api under fuzz: in-process over a database, Redis and NATS of its own, with real accounts
// (registered and signed in over the api; the admin from ADMIN_EMAIL/ADMIN_PASSWORD), tokens a
// client should never be able to turn into a 500 (a deleted account's, a non-UUID subject, expired,
// forged), seeded rows for the reads to find, a log of every row written and of every NATS
// message published, and a raw HTTP client that sends bytes exactly as given.
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';

import { SignJWT } from 'jose';
import { sql } from 'kysely';

import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import { startPrivateRedis, type PrivateServer } from '@ratewire/testkit/private-servers';
import { watchWrites, type RowWrite, type WriteWatch } from '@ratewire/testkit/write-watch';

import { signAccessToken, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/auth/tokens.ts';
import { insertCbrDay, startRestApi, upsertBinancePrices, type RestEnv } from './rest-support.ts';

export const ADMIN_EMAIL = 'fuzz-admin@example.test';
export const ADMIN_PASSWORD = 'fuzz-admin-password';

export interface Account {
  email: string;
  password: string;
  token: string;
}

/** Bearer tokens by kind: real ones, and ones that must be refused with a 401, never a 500. */
export interface Tokens {
  user: Account;
  other: Account;
  admin: Account;
  /** Signed for an account deleted since. */
  deleted: string;
  /** Signed correctly, but `sub` is not a UUID (a user and an admin). */
  nonUuidSub: string;
  nonUuidAdmin: string;
  expired: string;
  wrongSecret: string;
  /** `alg: none`, nothing to verify. */
  unsigned: string;
}

export interface Seeded {
  currencyIds: number[];
  currencyCodes: string[];
  cbrDates: string[];
  binanceSymbols: string[];
  /** A job of `user`, and one of `other`. */
  jobId: string;
  otherJobId: string;
  taskId: string;
}

export interface HttpCase {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** NATS messages published while the fuzz runs (the api's JetStream traffic excepted). */
export interface NatsLog {
  readonly messages: { subject: string; data: string }[];
  /** Resolves once everything `publisher` published before the call has arrived here. */
  settle(publisher: NatsConnection): Promise<void>;
}

export interface FuzzApi {
  env: RestEnv;
  redis: PrivateServer;
  tokens: Tokens;
  seeded: Seeded;
  writes: WriteWatch;
  nats: NatsLog;
  /** A connection of the test's own to the api's NATS (to publish what the api consumes). */
  publisher: NatsConnection;
  send(c: HttpCase): Promise<HttpReply>;
  /** Rows written since `mark`, without the outbox relay's own bookkeeping (it runs in the background). */
  writesSince(mark: number): Promise<RowWrite[]>;
  close(): Promise<void>;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function json<T>(env: RestEnv, method: string, path: string, body: unknown, token?: string): Promise<T> {
  const res = await env.request<T>(method, path, { body, headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  return res.body;
}

async function account(env: RestEnv, label: string): Promise<Account> {
  const email = `fuzz-${label}-${randomBytes(4).toString('hex')}@example.test`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  await json(env, 'POST', '/api/v1/auth/register', { email, password, name: label });
  return { email, password, token: await login(env, email, password) };
}

async function login(env: RestEnv, email: string, password: string): Promise<string> {
  return (await json<{ access_token: string }>(env, 'POST', '/api/v1/auth/login', { email, password })).access_token;
}

async function tokens(env: RestEnv): Promise<Tokens> {
  const settings = env.deps.settings;
  const [user, other, gone] = await Promise.all([account(env, 'user'), account(env, 'other'), account(env, 'gone')]);
  const admin = { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token: await login(env, ADMIN_EMAIL, ADMIN_PASSWORD) };
  await env.database.db.deleteFrom('users').where('email', '=', gone.email).execute();
  const key = new TextEncoder().encode(settings.JWT_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const claims = { role: 'user', email: user.email };
  return {
    user,
    other,
    admin,
    deleted: gone.token,
    nonUuidSub: await signAccessToken({ userId: 'not-a-uuid', sessionId: randomUUID() }, settings),
    nonUuidAdmin: await signAccessToken({ userId: "1' or '1'='1", sessionId: "1' or '1'='1" }, settings),
    expired: await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(randomBytes(16).toString('hex'))
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key),
    wrongSecret: await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(randomBytes(16).toString('hex'))
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-characters')),
    unsigned: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims, sub: user.email, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: now + 3600 })}.`,
  };
}

const CBR_ROWS = [
  { code: 'USD', nominal: 1, value: '99.0134' },
  { code: 'EUR', nominal: 1, value: '103.4532' },
  { code: 'JPY', nominal: 100, value: '62.9542' },
  { code: 'CNY', nominal: 10, value: '134.7101' },
  { code: 'HUF', nominal: 100, value: '24.9701' },
];

async function seed(env: RestEnv, t: Tokens): Promise<Seeded> {
  const db = env.database.db;
  const cbrDates = ['2024-12-28', '2025-01-10', '2025-01-11'];
  for (const date of cbrDates) await insertCbrDay(db, date, CBR_ROWS);
  // every day CBR could be asked about resolves without a fetch (the fuzz runs no worker)
  await sql`
    insert into cbr_days (requested, effective)
    select d::date, '2025-01-10'::date from generate_series(date '1992-07-01', current_date + 2, interval '1 day') d
    on conflict (requested) do nothing`.execute(db);
  const binance = { BTCUSDT: '97123.45000000', ETHUSDT: '3456.78', BNBBTC: '0.00712300', DOGEUSDT: '0.00000123' };
  await upsertBinancePrices(db, binance);
  const currencyIds: number[] = [];
  for (const [code, rate] of [
    ['USD', '99.0134'],
    ['EUR', '103.4532'],
    ['JPY', '0.629542'],
    ['GBP', '124.1'],
  ] as const) {
    currencyIds.push(
      (await json<{ id: number }>(env, 'POST', '/api/v1/currencies', { code, rate, name: code }, t.admin.token)).id,
    );
  }
  const job = { exchange_rate: '75.5', bills: [{ denomination_id: 1, denomination: 10, count: 5 }] };
  const mine = await json<{ job_id: string }>(
    env,
    'POST',
    '/api/v1/exchange-jobs',
    { ...job, request_id: 'fuzz-seed' },
    t.user.token,
  );
  const theirs = await json<{ job_id: string }>(
    env,
    'POST',
    '/api/v1/exchange-jobs',
    { ...job, request_id: 'fuzz-seed' },
    t.other.token,
  );
  const task = await json<{ task_id: string }>(env, 'POST', '/api/v1/tasks/rates-refresh', undefined, t.admin.token);
  return {
    currencyIds,
    currencyCodes: ['USD', 'EUR', 'JPY', 'GBP', 'CNY', 'HUF', 'RUB'],
    cbrDates,
    binanceSymbols: Object.keys(binance),
    jobId: mine.job_id,
    otherJobId: theirs.job_id,
    taskId: task.task_id,
  };
}

/** Subjects the api publishes on its own schedule (the outbox relay), not in answer to one request. */
const BACKGROUND = /^(\$JS\.|_INBOX\.|jobs\.exchange\.submit$)/;

async function natsLog(url: string): Promise<NatsLog & { nc: NatsConnection }> {
  const nc = await createNats([url], createLogger('fuzz', 'silent'), 'fuzz-log');
  const messages: { subject: string; data: string }[] = [];
  nc.subscribe('>', {
    callback: (err, msg) => {
      if (!err && !BACKGROUND.test(msg.subject)) messages.push({ subject: msg.subject, data: msg.string() });
    },
  });
  await nc.flush();
  return {
    nc,
    messages,
    async settle(publisher) {
      await publisher.flush();
      await nc.flush();
    },
  };
}

export async function startFuzzApi(): Promise<FuzzApi> {
  const redis = await startPrivateRedis();
  const env = await startRestApi({
    REDIS_URL: redis.url,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    // each login case comes from an address of its own (X-Forwarded-For), so the per-address limit
    // does not turn the rest of the run into 429s
    TRUST_PROXY: 'true',
  });
  const t = await tokens(env);
  const seeded = await seed(env, t);
  const log = await natsLog(env.privateNats.url);
  const publisher = await createNats([env.privateNats.url], createLogger('fuzz', 'silent'), 'fuzz-publisher');
  const writes = await watchWrites(env.database.db);
  const base = new URL(env.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  return {
    env,
    redis,
    tokens: t,
    seeded,
    writes,
    nats: log,
    publisher,
    send(c) {
      // a body always goes with its length: without one, Node's client sends a GET's body unframed
      // and the next request on the connection starts with its bytes
      const headers =
        c.body === undefined ? c.headers : { ...c.headers, 'content-length': String(Buffer.byteLength(c.body)) };
      return new Promise((resolve, reject) => {
        const req = http.request(
          { host: base.hostname, port: base.port, method: c.method, path: c.path, headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(c.body);
      });
    },
    async writesSince(mark) {
      return (await writes.since(mark)).filter((w) => !(w.table === 'outbox' && w.op === 'UPDATE'));
    },
    async close() {
      agent.destroy();
      await publisher.drain().catch(() => {});
      await log.nc.drain().catch(() => {});
      await writes.remove().catch(() => {});
      await env.close();
      await redis.close();
    },
  };
}

/** A short, printable account of a case and its answer for a failure message. */
export function describeCase(c: HttpCase, reply?: HttpReply, tokens?: Tokens): string {
  const labels: [string, string][] = tokens
    ? [
        [tokens.user.token, '<user token>'],
        [tokens.other.token, '<other user token>'],
        [tokens.admin.token, '<admin token>'],
        [tokens.deleted, "<deleted account's token>"],
        [tokens.nonUuidSub, '<token with a non-UUID sub>'],
        [tokens.nonUuidAdmin, '<admin token with a non-UUID sub>'],
        [tokens.expired, '<expired token>'],
        [tokens.wrongSecret, '<token signed with another secret>'],
        [tokens.unsigned, '<alg none token>'],
      ]
    : [];
  const named = (v: string) => labels.reduce((text, [token, label]) => text.split(token).join(label), v);
  c = { ...c, headers: Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, named(v)])) };
  const body = c.body === undefined ? '' : typeof c.body === 'string' ? c.body : `<${c.body.length} bytes>`;
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
  const headers = Object.entries(c.headers)
    .map(([k, v]) => `${k}: ${clip(v, 80)}`)
    .join('; ');
  return [
    `${c.method} ${clip(c.path, 300)}`,
    headers && `headers: ${headers}`,
    body && `body: ${clip(JSON.stringify(body), 500)}`,
    reply && `→ ${reply.status} ${clip(reply.text, 500)}`,
  ]
    .filter(Boolean)
    .join('\n  ');
}
