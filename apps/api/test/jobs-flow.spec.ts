// End to end: HTTP submit → outbox → JetStream → a real worker process → result → signed callback.
// The job names its own callback_url, so the callback is signed with its owner's webhook secret and
// carries no token (webhook-callbacks.spec.ts covers EXCHANGE_CALLBACK_URL and rotation).
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createRedis, type RedisClient } from '@ratewire/runtime';
import { serviceUrls, waitFor, type AppProcess } from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';

import {
  CALLBACK_TOKEN,
  get,
  post,
  EXAMPLE_BODY,
  signatureEntries,
  signatureValid,
  spawnWorker,
  startJobsEnv,
  whsecKey,
  WORKER_READY,
  type JobsEnv,
} from './jobs-harness.ts';

let env: JobsEnv;
let worker: AppProcess;
let receiver: Receiver;
let nc: NatsConnection;
let sub: RedisClient;
const events: { subject: string; data: Record<string, unknown> }[] = [];
const notes: Record<string, unknown>[] = [];
let user: { id: string; token: string };

beforeAll(async () => {
  env = await startJobsEnv();
  receiver = await startReceiver();
  nc = await connect({ servers: env.nats.url });
  nc.subscribe('jobs.exchange.>', {
    callback: (_err, m) => events.push({ subject: m.subject, data: m.json() }),
  });
  sub = createRedis(serviceUrls().REDIS_URL, createLogger('jobs-flow', 'silent'), 'jobs-flow-sub');
  await sub.subscribe('notifications');
  sub.on('message', (_ch, text: string) => notes.push(JSON.parse(text) as Record<string, unknown>));
  user = await env.user();
  worker = spawnWorker(env);
  await worker.waitForLine(WORKER_READY, 30_000);
});
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await sub?.quit();
  await nc?.close();
  await receiver?.stop();
  await env?.close();
});

describe('exchange job, the method guide’s example (rate 75.5; 10×5, 20×3)', () => {
  it("reaches the receiver as 3775.0 and 4530.0, without the token, signed with the owner's webhook secret", async () => {
    const res = await post(`${env.api.url}/api/v1/exchange-jobs`, user.token, {
      request_id: 'example-001',
      callback_url: receiver.url,
      ...EXAMPLE_BODY,
    });
    expect(res.status).toBe(202);
    const id = String(res.body.job_id);

    const cb = await waitFor(() => receiver.received[0], { timeoutMs: 20_000, what: 'the callback' });
    expect(cb.method).toBe('PUT');
    expect(cb.headers['content-type']).toBe('application/json');
    // exact decimal written as a JSON number, never through a float
    expect(cb.body).toBe(
      `{"request_id":"example-001","breakdown":[` +
        `{"denomination_id":1,"subtotal_rub":3775.00},{"denomination_id":2,"subtotal_rub":4530.00}]}`,
    );
    expect(cb.body).not.toContain(CALLBACK_TOKEN);
    expect(JSON.parse(cb.body)).toEqual({
      request_id: 'example-001',
      breakdown: [
        { denomination_id: 1, subtotal_rub: 3775.0 },
        { denomination_id: 2, subtotal_rub: 4530.0 },
      ],
    });
    expect(cb.headers['webhook-id']).toBe(`msg_${id}`);
    expect(Math.abs(Number(cb.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const secret = await get(`${env.api.url}/api/v1/webhooks/secret`, user.token);
    expect(secret.status).toBe(200);
    expect(signatureEntries(cb)).toHaveLength(1);
    expect(signatureValid(cb, whsecKey(String(secret.body.secret)))).toBe(true);
    expect(signatureValid(cb, CALLBACK_TOKEN)).toBe(false);
    expect(signatureValid(cb, 'another-secret')).toBe(false);

    const view = await waitFor(
      async () => {
        const r = await get(`${env.api.url}/api/v1/exchange-jobs/${id}`, user.token);
        return (r.body.callback as { state: string }).state === 'delivered' ? r.body : null;
      },
      { what: 'delivered state' },
    );
    expect(view).toMatchObject({
      status: 'done',
      rate: '75.5',
      breakdown: [
        { denomination_id: 1, subtotal_rub: '3775.00' },
        { denomination_id: 2, subtotal_rub: '4530.00' },
      ],
      total_rub: '8305.00',
      callback: { state: 'delivered', attempts: 1, last_status: 200, next_attempt_at: null },
    });
    expect(view.completed_at).toEqual(expect.any(String));

    await waitFor(() => events.some((e) => e.subject === 'jobs.exchange.callback.delivered'), {
      what: 'callback.delivered event',
    });
    expect(events.find((e) => e.subject === 'jobs.exchange.completed')?.data).toEqual({
      job_id: id,
      request_id: 'example-001',
      status: 'done',
      total_rub: '8305.00',
    });
    expect(events.find((e) => e.subject === 'jobs.exchange.callback.delivered')?.data).toMatchObject({
      job_id: id,
      webhook_id: `msg_${id}`,
      attempts: 1,
      status_code: 200,
    });
    await waitFor(() => notes.filter((n) => n.job_id === id).length >= 3, { what: 'progress notifications' });
    expect(notes.filter((n) => n.job_id === id).map((n) => n.status)).toEqual(['queued', 'running', 'done']);
  });

  it('does not deliver a per-job callback to a private address that is not allowed', async () => {
    const res = await post(`${env.api.url}/api/v1/exchange-jobs`, user.token, {
      request_id: 'ssrf-1',
      callback_url: 'http://169.254.169.254/latest/meta-data/',
      ...EXAMPLE_BODY,
    });
    const id = String(res.body.job_id);
    const view = await waitFor(
      async () => {
        const r = await get(`${env.api.url}/api/v1/exchange-jobs/${id}`, user.token);
        return (r.body.callback as { state: string }).state === 'failed' ? r.body : null;
      },
      { what: 'refused callback' },
    );
    expect(view).toMatchObject({ status: 'done', callback: { state: 'failed', attempts: 1, last_status: null } });
    expect((view.callback as { last_error: string }).last_error).toMatch(/^refused/);
    await waitFor(() => events.some((e) => e.subject === 'jobs.exchange.callback.failed' && e.data.job_id === id), {
      what: 'callback.failed event',
    });
  });

  it('has no delivery when the job names no target and none is configured', async () => {
    const res = await post(`${env.api.url}/api/v1/exchange-jobs`, user.token, { request_id: 'no-cb', ...EXAMPLE_BODY });
    const id = String(res.body.job_id);
    const view = await waitFor(
      async () => {
        const r = await get(`${env.api.url}/api/v1/exchange-jobs/${id}`, user.token);
        return r.body.status === 'done' ? r.body : null;
      },
      { what: 'job done' },
    );
    expect(view.callback).toMatchObject({ state: 'none', attempts: 0 });
  });
});
