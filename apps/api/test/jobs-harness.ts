// Support for the exchange-job tests: the api in-process on a NATS server of its own, users with
// tokens, real worker processes, and a local callback receiver that records every PUT.
import { createHmac, randomUUID } from 'node:crypto';

import { spawnApp, type AppProcess } from '@ratewire/testkit';
import type { ReceivedCallback } from '@ratewire/testkit/callback-receiver';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

import { sessionToken, startTestApi, type TestApi } from './harness.ts';

export const CALLBACK_TOKEN = 'test-callback-secret-0123456789';

export interface JobsEnv {
  api: TestApi;
  nats: PrivateServer;
  /** Creates a user (or admin) and returns its bearer token. */
  user(role?: 'user' | 'admin'): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function startJobsEnv(env: Record<string, string> = {}): Promise<JobsEnv> {
  const nats = await startPrivateNats();
  const api = await startTestApi({ NATS_URL: nats.url, ...env });
  return {
    api,
    nats,
    async user(role = 'user') {
      const email = `${randomUUID()}@jobs.test`;
      const row = await api.database.db
        .insertInto('users')
        .values({ email, name: null, password_hash: 'x', role })
        .returning('id')
        .executeTakeFirstOrThrow();
      const token = await sessionToken(api.database.db, row.id, api.deps.settings);
      return { id: row.id, token };
    },
    async close() {
      await api.close();
      await nats.close();
    },
  };
}

/** A worker process on the api's database and NATS (feeds pointed nowhere, polling rarely). */
export function spawnWorker(
  jobs: { api: TestApi; nats: { url: string } },
  env: Record<string, string> = {},
): AppProcess {
  return spawnApp('worker', {
    DATABASE_URL: jobs.api.database.url,
    NATS_URL: jobs.nats.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    CBR_BASE_URL: 'http://127.0.0.1:9',
    BINANCE_BASE_URL: 'http://127.0.0.1:9',
    CBR_POLL_INTERVAL_MS: '86400000',
    BINANCE_POLL_INTERVAL_MS: '86400000',
    EXCHANGE_CALLBACK_TOKEN: CALLBACK_TOKEN,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    ...env,
  });
}

export const WORKER_READY = /"msg":"consuming exchange jobs"/;

export async function post(url: string, token: string | null, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

export async function get(url: string, token: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Checks a Standard Webhooks signature the way a receiver would, independently of our signer: any
 * entry of `webhook-signature` matches. `key` as a string is taken as its UTF-8 bytes (how
 * EXCHANGE_CALLBACK_TOKEN signs); for a user's `whsec_` secret pass `whsecKey(secret)`.
 */
export function signatureValid(cb: ReceivedCallback, key: string | Buffer): boolean {
  return signatureEntries(cb).includes(expectedSignature(cb, key));
}

/** The `v1,…` entry `key` gives for this callback. */
export function expectedSignature(cb: ReceivedCallback, key: string | Buffer): string {
  const id = String(cb.headers['webhook-id']);
  const ts = String(cb.headers['webhook-timestamp']);
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${cb.body}`).digest('base64')}`;
}

/** The space-separated entries of `webhook-signature`. */
export const signatureEntries = (cb: ReceivedCallback) => String(cb.headers['webhook-signature']).split(' ');

/** A user's webhook secret as Standard Webhooks receivers key it: the base64 after `whsec_`, decoded. */
export const whsecKey = (secret: string) => Buffer.from(secret.replace(/^whsec_/, ''), 'base64');

export const EXAMPLE_BODY = {
  exchange_rate: 75.5,
  bills: [
    { denomination_id: 1, denomination: 10, count: 5 },
    { denomination_id: 2, denomination: 20, count: 3 },
  ],
};
