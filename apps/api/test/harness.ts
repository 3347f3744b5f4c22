// Starts the api in-process on an ephemeral port over a database of its own and the real
// Redis and NATS that `npm test` runs (Redis keys under a prefix of its own).
import { randomBytes, randomUUID } from 'node:crypto';

import { apiSettingsSchema, type ApiSettings } from '@ratewire/contracts';
import { Cluster, createLogger, createNats, createRedis, parseSettings } from '@ratewire/runtime';
import { createTestDatabase, serviceUrls, type TestDatabase } from '@ratewire/testkit';

import { composeApi, type ApiApp } from '../src/compose.ts';
import { ensureAdmin } from '../src/auth/auth.service.ts';
import { hashPassword } from '../src/auth/passwords.ts';
import { signAccessToken, type TokenSettings } from '../src/auth/tokens.ts';
import { createSession, type Database } from '@ratewire/db';
import type { ApiDeps } from '../src/deps.ts';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: 'user' | 'admin';
  token: string;
  /** The session the token names. */
  sessionId: string;
  /** `{ authorization: 'Bearer …' }` */
  auth: Record<string, string>;
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (undefined when the body is empty or not JSON). */
  body: T;
}

export interface TestApi {
  url: string;
  api: ApiApp;
  deps: ApiDeps;
  database: TestDatabase;
  /** Creates an account straight in the database and signs a token for it. */
  user(role?: 'user' | 'admin'): Promise<TestUser>;
  /** An HTTP request to the api; a non-string `body` is sent as JSON. */
  request<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply<T>>;
  close(): Promise<void>;
}

/**
 * The api in-process on an ephemeral port, on a database of its own — or, with `shareWith`, on
 * another test api's database (a second replica, with the same Redis keys; its close() leaves both alone).
 */
export async function startTestApi(
  env: Record<string, string> = {},
  options: { shareWith?: TestApi; poolMax?: number } = {},
): Promise<TestApi> {
  const shared = options.shareWith?.database;
  const database = shared ?? (await createTestDatabase({ poolMax: options.poolMax }));
  const urls = serviceUrls();
  const settings: ApiSettings = parseSettings(apiSettingsSchema, {
    ...urls,
    DATABASE_URL: database.url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // close() stops at once unless a test drains
    SHUTDOWN_DRAIN_MS: '0',
    ...env,
  });
  const log = createLogger('api-test', settings.LOG_LEVEL);
  const redis = createRedis(settings.REDIS_URL, log, 'api-test');
  const nats = await createNats(settings.NATS_URL, log, 'api-test');
  // replicas share their Redis keys (response cache, rate limits) as they share the database
  const redisPrefix = options.shareWith?.deps.redisPrefix ?? `rw:test:${randomBytes(6).toString('hex')}:`;
  const deps: ApiDeps = { settings, log, pool: database.pool, db: database.db, redis, nats, redisPrefix };
  await ensureAdmin(database.db, settings, log);
  const api = composeApi(deps);
  const url = await api.listen(0, '127.0.0.1');
  return {
    url,
    api,
    deps,
    database,
    async user(role = 'user') {
      const email = `${randomUUID()}@users.test`;
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const row = await database.db
        .insertInto('users')
        .values({ email, name: null, password_hash: await hashPassword(password), role })
        .returning('id')
        .executeTakeFirstOrThrow();
      const session = await createSession(database.db, row.id, settings.JWT_TTL_SECONDS);
      const token = await signAccessToken({ userId: row.id, sessionId: session.id }, settings);
      const auth = { authorization: `Bearer ${token}` };
      return { id: row.id, email, password, role, token, sessionId: session.id, auth };
    },
    async request<T>(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...options.headers };
      let body: string | undefined;
      if (typeof options.body === 'string') body = options.body;
      else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, text, body: parsed as T };
    },
    async close() {
      await api.close();
      await nats.drain();
      if (!shared) {
        // each master of a Redis Cluster holds its own slots' keys: ask each, delete one key at a time
        for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
          const keys = await node.keys(`${redisPrefix}*`);
          const pipeline = node.pipeline();
          for (const key of keys) pipeline.del(key);
          if (keys.length) await pipeline.exec();
        }
      }
      await redis.quit();
      if (!shared) await database.drop();
    },
  };
}

/** An access token for the account, in a session of its own (as a login opens one). */
export async function sessionToken(db: Database, userId: string, settings: TokenSettings): Promise<string> {
  const session = await createSession(db, userId, settings.JWT_TTL_SECONDS);
  return signAccessToken({ userId, sessionId: session.id }, settings);
}
