// A worker killed with SIGKILL in the middle of a batch: JetStream redelivers its unacknowledged
// jobs to the next worker, and every job still ends with exactly one result and one delivered callback.
import { sql } from 'kysely';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JOBS_STREAM } from '@ratewire/jobs';
import { waitFor, type AppProcess } from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';

import { post, EXAMPLE_BODY, spawnWorker, startJobsEnv, WORKER_READY, type JobsEnv } from './jobs-harness.ts';

let env: JobsEnv;
let receiver: Receiver;
const workers: AppProcess[] = [];

beforeAll(async () => {
  env = await startJobsEnv();
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await receiver?.stop();
  await env?.close();
});

const start = async () => {
  const w = spawnWorker(env, {
    EXCHANGE_CALLBACK_URL: receiver.url,
    JOBS_ACK_WAIT_MS: '2000',
    CALLBACK_TIMEOUT_MS: '2000',
  });
  workers.push(w);
  await w.waitForLine(WORKER_READY, 30_000);
  return w;
};

const countDone = async () => {
  const r = await sql<{ n: string }>`select count(*) as n from exchange_jobs where status = 'done'`.execute(
    env.api.database.db,
  );
  return Number(r.rows[0]!.n);
};

describe('worker killed with SIGKILL mid-batch', () => {
  it('every job ends with exactly one result and one delivered callback', { timeout: 120_000 }, async () => {
    const user = await env.user();
    const N = 4000;
    // a backlog first, so the worker is busy with full batches when it dies
    const ids: string[] = [];
    let next = 0;
    const submitter = async () => {
      for (let i = next++; i < N; i = next++) {
        const res = await post(`${env.api.url}/api/v1/exchange-jobs`, user.token, {
          request_id: `k-${i}`,
          ...EXAMPLE_BODY,
        });
        expect(res.status).toBe(202);
        ids.push(String(res.body.job_id));
      }
    };
    await Promise.all(Array.from({ length: 16 }, submitter));
    expect(new Set(ids).size).toBe(N);

    const first = await start();
    await waitFor(async () => (await countDone()) > 0, {
      timeoutMs: 60_000,
      intervalMs: 10,
      what: 'a first batch done',
    });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await countDone()).toBeLessThan(N);

    await start();
    await waitFor(
      async () => {
        const r = await sql<{ n: string }>`
          select count(*) as n from callback_deliveries where status = 'delivered'`.execute(env.api.database.db);
        return Number(r.rows[0]!.n) === N;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: `all ${N} callbacks delivered` },
    );
    // the dead worker held unacknowledged messages: JetStream delivered some messages twice
    const nc = await connect({ servers: env.nats.url });
    const info = await (await nc.jetstreamManager()).consumers.info(JOBS_STREAM, 'exchange-workers');
    await nc.close();
    expect(info.delivered.consumer_seq).toBeGreaterThan(info.delivered.stream_seq);

    const jobs = await env.api.database.db.selectFrom('exchange_jobs').select(['id', 'status', 'total_rub']).execute();
    expect(jobs).toHaveLength(N);
    expect(jobs.every((j) => j.status === 'done' && j.total_rub === '8305.00')).toBe(true);

    // the receiver may see a webhook-id again (a worker died after sending, before recording):
    // receivers dedupe by webhook-id; what matters is one id per job, always with the same body
    const byId = new Map<string, Set<string>>();
    for (const cb of receiver.received) {
      const id = String(cb.headers['webhook-id']);
      const bodies = byId.get(id) ?? new Set<string>();
      bodies.add(cb.body);
      byId.set(id, bodies);
    }
    expect([...byId.keys()].sort()).toEqual(ids.map((id) => `msg_${id}`).sort());
    expect([...byId.values()].every((bodies) => bodies.size === 1)).toBe(true);
  });
});
