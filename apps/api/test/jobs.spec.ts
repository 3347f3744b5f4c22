import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JOBS_STREAM } from '@ratewire/jobs';
import { waitFor } from '@ratewire/testkit';

import { get, post, EXAMPLE_BODY, startJobsEnv, type JobsEnv } from './jobs-harness.ts';

let env: JobsEnv;
let nc: NatsConnection;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let admin: { id: string; token: string };
let base: string;

beforeAll(async () => {
  env = await startJobsEnv();
  base = env.api.url;
  nc = await connect({ servers: env.nats.url });
  [alice, bob, admin] = await Promise.all([env.user(), env.user(), env.user('admin')]);
});
afterAll(async () => {
  await nc?.close();
  await env?.close();
});

const job = (requestId: string, extra: Record<string, unknown> = {}) => ({
  request_id: requestId,
  ...EXAMPLE_BODY,
  ...extra,
});

describe('POST /api/v1/exchange-jobs', () => {
  it('answers 202 with the job id, stores the job and publishes it to the JOBS stream', async () => {
    const res = await post(`${base}/api/v1/exchange-jobs`, alice.token, job('r-accept'));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ job_id: expect.any(String), status: 'queued' });
    const id = String(res.body.job_id);
    const row = await env.api.database.db
      .selectFrom('exchange_jobs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ user_id: alice.id, request_id: 'r-accept', rate: '75.5', status: 'queued' });
    // the relay publishes the outbox row with Nats-Msg-Id = job id
    const outbox = await waitFor(
      () =>
        env.api.database.db
          .selectFrom('outbox')
          .selectAll()
          .where('msg_id', '=', id)
          .where('published_at', 'is not', null)
          .executeTakeFirst(),
      { what: 'outbox row published' },
    );
    expect(outbox.subject).toBe('jobs.exchange.submit');
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(JOBS_STREAM);
    expect(info.config.retention).toBe('workqueue');
    const msg = await jsm.streams.getMessage(JOBS_STREAM, { last_by_subj: 'jobs.exchange.submit' });
    expect(msg.header.get('Nats-Msg-Id')).toBe(id);
    expect(msg.json()).toEqual({ job_id: id });
  });

  it('needs a bearer token', async () => {
    const res = await post(`${base}/api/v1/exchange-jobs`, null, job('r-anon'));
    expect(res.status).toBe(401);
  });

  it('answers 422 naming the invalid field', async () => {
    const res = await post(`${base}/api/v1/exchange-jobs`, alice.token, {
      request_id: 'r-bad',
      exchange_rate: 75.5,
      bills: [{ denomination_id: 1, denomination: 10, count: 'five' }],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body.bills.0.count' })]));
  });

  it('refuses a callback_url that is not http(s) with 422', async () => {
    const res = await post(
      `${base}/api/v1/exchange-jobs`,
      alice.token,
      job('r-ftp', { callback_url: 'ftp://x.test/' }),
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'body.callback_url' })]);
  });

  it('returns the same job for the same request_id and body, 409 for another body', async () => {
    const first = await post(`${base}/api/v1/exchange-jobs`, alice.token, job('r-dup'));
    expect(first.status).toBe(202);
    // the same body written differently (rate as a string with a trailing zero) is the same request
    const again = await post(`${base}/api/v1/exchange-jobs`, alice.token, job('r-dup', { exchange_rate: '75.50' }));
    expect(again.status).toBe(200);
    expect(again.body.job_id).toBe(first.body.job_id);
    const other = await post(`${base}/api/v1/exchange-jobs`, alice.token, job('r-dup', { exchange_rate: 80 }));
    expect(other.status).toBe(409);
    // another caller may use the same request_id for a job of its own
    const bobs = await post(`${base}/api/v1/exchange-jobs`, bob.token, job('r-dup'));
    expect(bobs.status).toBe(202);
    expect(bobs.body.job_id).not.toBe(first.body.job_id);
    const count = await env.api.database.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('msg_id', 'in', [String(first.body.job_id), String(bobs.body.job_id)])
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2);
  });

  it('creates one job when the same request arrives concurrently', async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => post(`${base}/api/v1/exchange-jobs`, alice.token, job('r-race'))),
    );
    const ids = new Set(replies.map((r) => r.body.job_id));
    expect(ids.size).toBe(1);
    expect(replies.filter((r) => r.status === 202)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(7);
  });

  it('uses and records the latest CBR unit rate when only currency is given', async () => {
    await env.api.database.db
      .insertInto('cbr_rates')
      .values([
        { date: '2026-01-10', code: 'USD', name: 'Доллар США', nominal: 1, value: '77.1', unit_rate: '77.1' },
        { date: '2026-01-13', code: 'USD', name: 'Доллар США', nominal: 1, value: '78.2345', unit_rate: '78.2345' },
      ])
      .execute();
    const { exchange_rate: _omit, ...bills } = EXAMPLE_BODY;
    const res = await post(`${base}/api/v1/exchange-jobs`, alice.token, {
      request_id: 'r-usd',
      currency: 'usd',
      ...bills,
    });
    expect(res.status).toBe(202);
    const view = await get(`${base}/api/v1/exchange-jobs/${String(res.body.job_id)}`, alice.token);
    expect(view.body).toMatchObject({ rate: '78.2345', currency: 'USD' });
    const unknown = await post(`${base}/api/v1/exchange-jobs`, alice.token, {
      request_id: 'r-xxx',
      currency: 'XXX',
      ...bills,
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ path: 'body.currency' })]);
  });
});

describe('POST /api/exchange_async (compat)', () => {
  it('answers 200 {"status":"ok", job_id} as the async exchange service did', async () => {
    const res = await post(`${base}/api/exchange_async`, alice.token, job('c-1'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', job_id: expect.any(String) });
    const again = await post(`${base}/api/exchange_async`, alice.token, job('c-1'));
    expect(again.body).toEqual(res.body);
  });

  it('answers 400 to a bad payload', async () => {
    const res = await post(`${base}/api/exchange_async`, alice.token, { request_id: 'c-2', bills: [] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body.bills' })]));
  });
});

describe('GET /api/v1/exchange-jobs/{id}', () => {
  it('shows the job to its owner and to an admin, 404 to anyone else', async () => {
    const created = await post(`${base}/api/v1/exchange-jobs`, alice.token, job('r-read'));
    const id = String(created.body.job_id);
    const own = await get(`${base}/api/v1/exchange-jobs/${id}`, alice.token);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      job_id: id,
      request_id: 'r-read',
      status: 'queued',
      rate: '75.5',
      breakdown: null,
      total_rub: null,
      callback: { state: 'none', attempts: 0 },
    });
    expect((await get(`${base}/api/v1/exchange-jobs/${id}`, bob.token)).status).toBe(404);
    expect((await get(`${base}/api/v1/exchange-jobs/${id}`, admin.token)).status).toBe(200);
    const missing = await get(`${base}/api/v1/exchange-jobs/00000000-0000-4000-8000-000000000000`, alice.token);
    expect(missing.status).toBe(404);
  });

  it("lists the caller's jobs, newest first, paginated", async () => {
    const carol = await env.user();
    for (const r of ['l-1', 'l-2', 'l-3']) {
      expect((await post(`${base}/api/v1/exchange-jobs`, carol.token, job(r))).status).toBe(202);
    }
    const page = await get(`${base}/api/v1/exchange-jobs?limit=2&offset=0`, carol.token);
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
    const items = page.body.items as { request_id: string }[];
    expect(items.map((i) => i.request_id)).toEqual(['l-3', 'l-2']);
    const rest = await get(`${base}/api/v1/exchange-jobs?limit=2&offset=2`, carol.token);
    expect((rest.body.items as { request_id: string }[]).map((i) => i.request_id)).toEqual(['l-1']);
  });
});
