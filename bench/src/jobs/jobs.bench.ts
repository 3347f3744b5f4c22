// Exchange jobs end to end: jobs submitted over HTTP to a real api process, carried through the
// outbox and JetStream to a real worker process, until the result is committed. Two figures:
//   - throughput: a backlog of jobs submitted as fast as 64 connections allow, jobs/s from the
//     first send to the last commit; baseline: single-row inserts with synchronous commit over 16
//     connections on the same Postgres (the bare cost of one durable write per job).
//   - latency: p99 submit-to-completed at a fixed 500 jobs/s (open loop); baseline: p99 of one
//     single-row insert with synchronous commit at the same rate.
// The goals are absolute (≥ 2,000 jobs/s; p99 ≤ 250 ms) and are turned into ratios of this run's
// baselines so that the harness prints met / not met.
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';

import { sql } from 'kysely';

import { DEV_JWT_SECRET } from '@ratewire/contracts';
import { createSession } from '@ratewire/db';
import { createTestDatabase, freePort, spawnApp, waitFor, type AppProcess } from '@ratewire/testkit';
import { startPrivateNats } from '@ratewire/testkit/private-servers';
import pg from 'pg';

import { percentile, type Benchmark, type BenchResult } from '../harness.ts';

const THROUGHPUT_JOBS = 20_000;
const CONCURRENCY = 64;
const RATE = 500;
const LATENCY_SECONDS = 10;

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** An HS256 access token as the api issues them (iss ratewire, aud ratewire-api), for a session of the user. */
function accessToken(userId: string, sessionId: string, email: string): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(
    JSON.stringify({
      sub: userId,
      sid: sessionId,
      role: 'user',
      email,
      iss: 'ratewire',
      aud: 'ratewire-api',
      iat: now,
      exp: now + 3600,
    }),
  );
  const sig = createHmac('sha256', DEV_JWT_SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function submit(base: URL, token: string, requestId: string): Promise<string> {
  const payload = JSON.stringify({
    request_id: requestId,
    exchange_rate: '75.5',
    bills: [
      { denomination_id: 1, denomination: 10, count: 5 },
      { denomination_id: 2, denomination: 20, count: 3 },
    ],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: '/api/v1/exchange-jobs',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (res.statusCode !== 202) return reject(new Error(`submit answered ${res.statusCode}: ${text}`));
          resolve((JSON.parse(text) as { job_id: string }).job_id);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function finishedCount(pool: pg.Pool, prefix: string): Promise<number> {
  const r = await pool.query<{ n: string }>(
    `select count(*) as n from exchange_jobs where status in ('done', 'failed') and request_id like $1`,
    [`${prefix}%`],
  );
  return Number(r.rows[0]!.n);
}

async function completedAt(pool: pg.Pool, prefix: string): Promise<Map<string, number>> {
  const r = await pool.query<{ id: string; completed_at: Date }>(
    `select id, completed_at from exchange_jobs where request_id like $1`,
    [`${prefix}%`],
  );
  return new Map(r.rows.map((row) => [row.id, row.completed_at.getTime()]));
}

/** Submits `n` jobs with `concurrency` in flight; returns the client send time of each job. */
async function submitBacklog(base: URL, token: string, prefix: string, n: number, concurrency: number) {
  const sent = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const at = Date.now();
        sent.set(await submit(base, token, `${prefix}${i}`), at);
      }
    }),
  );
  return sent;
}

/** Open loop at `rate`/s for `seconds`: sends on schedule whatever the replies do. */
async function submitAtRate(base: URL, token: string, prefix: string, rate: number, seconds: number) {
  const sent = new Map<string, number>();
  const total = rate * seconds;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const at = Date.now();
    inFlight.push(submit(base, token, `${prefix}${i}`).then((id) => void sent.set(id, at)));
  }
  await Promise.all(inFlight);
  return sent;
}

async function baselineThroughput(url: string, seconds: number): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: 16 }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  await clients[0]!.query('create table if not exists bench_baseline (id bigserial primary key, payload jsonb)');
  let rows = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < until) {
        await c.query('insert into bench_baseline (payload) values ($1)', ['{"job_id":"x"}']);
        rows++;
      }
    }),
  );
  const rate = rows / ((performance.now() - started) / 1000);
  await Promise.all(clients.map((c) => c.end()));
  return rate;
}

async function baselineLatencyP99(url: string, rate: number, seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 16 });
  const latencies: number[] = [];
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    pending.push(
      pool
        .query('insert into bench_baseline (payload) values ($1)', ['{"job_id":"x"}'])
        .then(() => void latencies.push(performance.now() - t)),
    );
  }
  await Promise.all(pending);
  await pool.end();
  return percentile(latencies, 99);
}

export const jobsBench: Benchmark = {
  name: 'jobs',
  description: 'exchange jobs over HTTP to committed result (api + worker processes, outbox, JetStream)',
  async run(): Promise<BenchResult> {
    const database = await createTestDatabase();
    const nats = await startPrivateNats();
    const port = await freePort();
    const procs: AppProcess[] = [];
    try {
      const common = {
        DATABASE_URL: database.url,
        NATS_URL: nats.url,
        LOG_LEVEL: 'warn',
        CBR_BASE_URL: 'http://127.0.0.1:9',
        BINANCE_BASE_URL: 'http://127.0.0.1:9',
        CBR_POLL_INTERVAL_MS: '86400000',
        BINANCE_POLL_INTERVAL_MS: '86400000',
      };
      const api = spawnApp('api', { ...common, PORT: String(port), LOG_LEVEL: 'info' });
      const worker = spawnApp('worker', { ...common, HEALTH_PORT: '0', LOG_LEVEL: 'info' });
      procs.push(api, worker);
      await api.waitForLine(/"msg":"api listening"/, 30_000);
      await worker.waitForLine(/"msg":"consuming exchange jobs"/, 30_000);
      const base = new URL(`http://127.0.0.1:${port}`);

      const email = `${randomUUID()}@bench.test`;
      const user = await database.db
        .insertInto('users')
        .values({ email, name: null, password_hash: 'x' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const session = await createSession(database.db, user.id, 3600);
      const token = accessToken(user.id, session.id, email);
      const pool = new pg.Pool({ connectionString: database.url, max: 2 });

      // warm-up: JIT, connection pools, stream and consumer
      await submitBacklog(base, token, 'warm-', 2000, CONCURRENCY);
      await waitFor(async () => (await finishedCount(pool, 'warm-')) === 2000, { timeoutMs: 60_000 });

      // throughput
      const t0 = Date.now();
      const sent = await submitBacklog(base, token, 'tp-', THROUGHPUT_JOBS, CONCURRENCY);
      const submitSeconds = (Date.now() - t0) / 1000;
      await waitFor(async () => (await finishedCount(pool, 'tp-')) === THROUGHPUT_JOBS, {
        timeoutMs: 300_000,
        intervalMs: 100,
      });
      const done = await completedAt(pool, 'tp-');
      const firstSend = Math.min(...sent.values());
      const lastDone = Math.max(...done.values());
      const jobsPerSecond = THROUGHPUT_JOBS / ((lastDone - firstSend) / 1000);

      // latency at a fixed rate
      const sentAtRate = await submitAtRate(base, token, 'lat-', RATE, LATENCY_SECONDS);
      await waitFor(async () => (await finishedCount(pool, 'lat-')) === RATE * LATENCY_SECONDS, {
        timeoutMs: 120_000,
        intervalMs: 100,
      });
      const doneAtRate = await completedAt(pool, 'lat-');
      const latencies = [...sentAtRate].map(([id, at]) => doneAtRate.get(id)! - at);
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      await pool.end();

      // baselines on the same Postgres, after our runs (nothing else writing)
      const insertsPerSecond = await baselineThroughput(database.url, 5);
      const insertP99 = await baselineLatencyP99(database.url, RATE, LATENCY_SECONDS);
      await sql`drop table if exists bench_baseline`.execute(database.db);

      return {
        name: 'jobs',
        baselineName: 'single-row insert, synchronous commit (16 connections)',
        figures: [
          {
            metric: 'jobs/s end to end',
            ours: jobsPerSecond,
            baseline: insertsPerSecond,
            higherIsBetter: true,
            unit: 'jobs/s',
            goal: Math.round((2000 / insertsPerSecond) * 100) / 100,
            note: `goal 2,000 jobs/s; ${THROUGHPUT_JOBS} jobs, ${CONCURRENCY} connections, submits alone ${Math.round(THROUGHPUT_JOBS / submitSeconds)}/s`,
          },
          {
            metric: `p99 submit→completed @ ${RATE}/s`,
            ours: p99,
            baseline: insertP99,
            higherIsBetter: false,
            unit: 'ms',
            goal: Math.round((insertP99 / 250) * 100) / 100,
            note: `goal ≤ 250 ms; p50 ${Math.round(p50)} ms; baseline = p99 of one insert at ${RATE}/s`,
          },
        ],
      };
    } finally {
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      agent.destroy();
      await nats.close();
      await database.drop();
    }
  },
};
