// NATS down: jobs are still accepted (202, stored with their outbox rows) and all complete once
// NATS is back. Uses a NATS server of its own: the shared one is never stopped.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { waitFor, type AppProcess } from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';

import { get, post, EXAMPLE_BODY, spawnWorker, startJobsEnv, WORKER_READY, type JobsEnv } from './jobs-harness.ts';

let env: JobsEnv;
let receiver: Receiver;
let worker: AppProcess;

beforeAll(async () => {
  env = await startJobsEnv();
  receiver = await startReceiver();
  worker = spawnWorker(env, { EXCHANGE_CALLBACK_URL: receiver.url });
  await worker.waitForLine(WORKER_READY, 30_000);
});
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await receiver?.stop();
  await env?.close();
});

describe('NATS down while jobs are submitted', () => {
  it('accepts every job with 202 and completes them all when NATS returns', { timeout: 90_000 }, async () => {
    const user = await env.user();
    await env.nats.stop();

    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        post(`${env.api.url}/api/v1/exchange-jobs`, user.token, { request_id: `down-${i}`, ...EXAMPLE_BODY }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(60).fill(202));
    const ids = replies.map((r) => String(r.body.job_id));
    // durable before the reply: every job and its unpublished outbox row are in Postgres
    const pending = await sql<{ n: string }>`
      select count(*) as n from outbox where published_at is null and msg_id = any(${ids}::text[])`.execute(
      env.api.database.db,
    );
    expect(Number(pending.rows[0]!.n)).toBe(60);

    await env.nats.start();
    await waitFor(
      async () => {
        const r = await sql<{ n: string }>`
          select count(*) as n from exchange_jobs j join callback_deliveries d on d.job_id = j.id
          where j.status = 'done' and d.status = 'delivered' and j.id = any(${ids}::uuid[])`.execute(
          env.api.database.db,
        );
        return Number(r.rows[0]!.n) === 60;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'all 60 jobs done and delivered' },
    );
    const view = await get(`${env.api.url}/api/v1/exchange-jobs/${ids[0]!}`, user.token);
    expect(view.body).toMatchObject({ status: 'done', total_rub: '8305.00', callback: { state: 'delivered' } });
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(
      new Set(ids.map((id) => `msg_${id}`)),
    );
  });
});
