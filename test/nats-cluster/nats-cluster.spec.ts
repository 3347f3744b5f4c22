// Exchange jobs on a three-node NATS cluster with NATS_STREAM_REPLICAS=3: the api, two workers and
// the notifier as real processes, a thousand jobs submitted over HTTP, and the node leading the jobs
// stream killed (SIGKILL) in the middle of the submissions, then started again. Every job must be
// done exactly once — one result, one callback delivery stored, one callback received (no worker
// dies here, so a second callback could only come from a job processed twice) — and every process
// must still be running and ready on NATS at the end, those that lost their node reconnected.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JOBS_CONSUMER, JOBS_STREAM } from '../../packages/jobs/src/index.ts';
import { createLogger, createNats, type NatsConnection } from '../../packages/runtime/src/index.ts';
import { startReceiver, type Receiver } from '../../packages/testkit/src/callback-receiver.ts';
import {
  FEEDS_OUT_OF_REACH,
  createTestDatabase,
  freePort,
  spawnApp,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '../../packages/testkit/src/index.ts';
import {
  startPrivateNatsCluster,
  startPrivateRedis,
  type PrivateNatsCluster,
  type PrivateNatsNode,
  type PrivateServer,
} from '../../packages/testkit/src/private-servers.ts';

type JetStreamManager = Awaited<ReturnType<NatsConnection['jetstreamManager']>>;

const JOBS = 1000;
/** Concurrent HTTP submitters. */
const SUBMITTERS = 8;
/** The stream's leader is killed once this many jobs are accepted, and started again at RESTART_AT. */
const KILL_AT = 300;
const RESTART_AT = 700;
const CALLBACK_TOKEN = 'nats-cluster-callback-secret-0123456789';
const BODY = {
  exchange_rate: 75.5,
  bills: [
    { denomination_id: 1, denomination: 10, count: 5 },
    { denomination_id: 2, denomination: 20, count: 3 },
  ],
};
/** 5 × 10 + 3 × 20 = 110 at 75.5. */
const TOTAL = '8305.00';

let cluster: PrivateNatsCluster;
let database: TestDatabase;
let redis: PrivateServer;
let receiver: Receiver;
let nc: NatsConnection;
let jsm: JetStreamManager;
let apiUrl: string;
const apps: { name: string; proc: AppProcess; readyUrl: string }[] = [];

beforeAll(async () => {
  [cluster, database, redis, receiver] = await Promise.all([
    startPrivateNatsCluster({ nodes: 3 }),
    createTestDatabase(),
    startPrivateRedis(),
    startReceiver(),
  ]);
  nc = await createNats(cluster.urls, createLogger('nats-cluster-test', 'silent'), 'nats-cluster-test');
  // made once: making one asks the server, which may not answer during an election
  jsm = await nc.jetstreamManager();
  const [apiPort, ...healthPorts] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    NATS_URL: cluster.url,
    NATS_STREAM_REPLICAS: '3',
    LOG_LEVEL: 'info',
    PORT: String(apiPort),
    PUBLIC_BASE_URL: apiUrl,
    SHUTDOWN_DRAIN_MS: '0',
    ...FEEDS_OUT_OF_REACH,
    EXCHANGE_CALLBACK_URL: receiver.url,
    EXCHANGE_CALLBACK_TOKEN: CALLBACK_TOKEN,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
  };
  const start = async (name: string, app: 'api' | 'worker' | 'notifier', ready: RegExp, healthPort?: number) => {
    const proc = spawnApp(app, { ...env, ...(healthPort ? { HEALTH_PORT: String(healthPort) } : {}) });
    apps.push({ name, proc, readyUrl: healthPort ? `http://127.0.0.1:${healthPort}/readyz` : `${apiUrl}/readyz` });
    await proc.waitForLine(ready, 60_000);
  };
  await Promise.all([
    start('api', 'api', /"msg":"api listening"/),
    start('worker 1', 'worker', /"msg":"consuming exchange jobs"/, healthPorts[0]),
    start('worker 2', 'worker', /"msg":"consuming exchange jobs"/, healthPorts[1]),
    start('notifier', 'notifier', /"msg":"notifier started"/, healthPorts[2]),
  ]);
});

afterAll(async () => {
  for (const { proc } of apps) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill();
  await Promise.all(apps.map(({ proc }) => proc.exited));
  await nc?.close().catch(() => {});
  await Promise.all([cluster?.close(), database?.drop(), redis?.close(), receiver?.stop()]);
});

async function token(): Promise<string> {
  const email = `${randomUUID()}@nats-cluster.test`;
  const password = `pw-${randomUUID()}`;
  const json = { 'content-type': 'application/json' };
  const reg = await fetch(`${apiUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  expect(reg.status).toBe(201);
  const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  expect(login.status).toBe(200);
  return ((await login.json()) as { access_token: string }).access_token;
}

/** The jobs stream's leader (server name) as JetStream reports it; retried through an election. */
async function streamLeader(): Promise<string> {
  return waitFor(async () => (await jsm.streams.info(JOBS_STREAM)).cluster?.leader, {
    timeoutMs: 30_000,
    what: 'a leader of the jobs stream',
  });
}

/** The apps' connections to `node` (their connection names start with ratewire-). */
async function appConnections(node: PrivateNatsNode): Promise<string[]> {
  const res = await fetch(`${node.monitorUrl}/connz`);
  const { connections = [] } = (await res.json()) as { connections?: { name?: string }[] };
  return connections.map((c) => c.name ?? '').filter((name) => name.startsWith('ratewire-'));
}

/**
 * Moves the jobs stream's leadership until it sits on a node some app is connected to, so that
 * killing the leader also takes connections away (and the reconnects are checked, not left to chance).
 */
async function leaderWithApps(): Promise<PrivateNatsNode> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const leader = cluster.node(await streamLeader());
    if ((await appConnections(leader)).length) return leader;
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${JOBS_STREAM}`, undefined, { timeout: 5000 }).catch(() => null);
    await waitFor(async () => (await streamLeader()) !== leader.name, { what: 'another stream leader' });
  }
  throw new Error('the jobs stream never led from a node with an app connected');
}

async function doneJobs(): Promise<number> {
  const row = await database.db
    .selectFrom('exchange_jobs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'done')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('exchange jobs on a three-node NATS cluster', () => {
  it('completes every job exactly once when the jobs stream leader is killed and comes back', async () => {
    const stream = await jsm.streams.info(JOBS_STREAM);
    expect(stream.config.num_replicas).toBe(3);
    expect(stream.cluster?.replicas).toHaveLength(2);
    expect((await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER)).config.num_replicas).toBe(3);

    const target = await leaderWithApps();
    console.log(`[measure] jobs stream leader ${target.name} serves ${(await appConnections(target)).join(', ')}`);

    const bearer = await token();
    const started = performance.now();
    const since = () => Math.round(performance.now() - started);
    const progress: number[] = [];
    const sampler = setInterval(() => void doneJobs().then((n) => progress.push(n)), 1000);
    const ids: string[] = [];
    let next = 0;
    // what the submitters set going: the kill of the stream's leader, and its restart
    const outage: { node?: PrivateNatsNode; killing?: Promise<void>; restarting?: Promise<void> } = {};
    const at: Record<string, number> = {};
    const submitter = async () => {
      for (let i = next++; i < JOBS; i = next++) {
        const res = await fetch(`${apiUrl}/api/v1/exchange-jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
          body: JSON.stringify({ request_id: `cluster-${i}`, ...BODY }),
        });
        expect(res.status).toBe(202);
        ids.push(String(((await res.json()) as { job_id: string }).job_id));
        if (ids.length === KILL_AT) {
          outage.killing = (async () => {
            // the leader still (nothing has moved it since), unless an election came in between
            const node = cluster.node(await streamLeader());
            outage.node = node;
            at.kill = since();
            await node.stop();
            console.log(`[measure] killed ${node.name}, the jobs stream leader, at ${at.kill} ms`);
          })();
        }
        if (ids.length === RESTART_AT) {
          outage.restarting = (async () => {
            await outage.killing;
            at.newLeader = since();
            const leader = await streamLeader();
            console.log(`[measure] jobs stream leader after the kill: ${leader} (asked at ${at.newLeader} ms)`);
            at.restart = since();
            await outage.node?.start();
            console.log(`[measure] started ${outage.node?.name} again at ${at.restart} ms`);
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: SUBMITTERS }, submitter));
    at.submitted = since();
    await outage.killing;
    await outage.restarting;
    expect(outage.node?.running).toBe(true);
    expect(new Set(ids).size).toBe(JOBS);

    await waitFor(async () => (await doneJobs()) === JOBS, {
      timeoutMs: 180_000,
      intervalMs: 100,
      what: `all ${JOBS} jobs done`,
    });
    at.done = since();
    clearInterval(sampler);
    console.log(`[measure] jobs done, each second: ${progress.join(' ')}`);
    await waitFor(() => receiver.received.length >= JOBS, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `${JOBS} callbacks received`,
    });
    at.callbacks = since();
    console.log(
      `[measure] ${JOBS} jobs: submitted in ${at.submitted} ms, all done at ${at.done} ms, ` +
        `all callbacks at ${at.callbacks} ms (kill at ${at.kill} ms, restart at ${at.restart} ms)`,
    );

    // one result per job, each the right one
    const jobs = await database.db.selectFrom('exchange_jobs').select(['id', 'status', 'total_rub']).execute();
    expect(jobs).toHaveLength(JOBS);
    expect(jobs.filter((j) => j.status !== 'done' || j.total_rub !== TOTAL)).toEqual([]);
    expect(jobs.map((j) => j.id).sort()).toEqual([...ids].sort());
    // one callback stored per job, and one received per job: none processed twice
    const deliveries = await database.db
      .selectFrom('callback_deliveries')
      .select(['job_id', 'status'])
      .where('job_id', 'is not', null)
      .execute();
    expect(deliveries).toHaveLength(JOBS);
    expect(new Set(deliveries.map((d) => d.job_id)).size).toBe(JOBS);
    await waitFor(async () => deliveries.every((d) => d.status === 'delivered') || (await allDelivered()), {
      what: 'every callback delivery marked delivered',
    });
    const perWebhook = new Map<string, number>();
    for (const cb of receiver.received) {
      const id = String(cb.headers['webhook-id']);
      perWebhook.set(id, (perWebhook.get(id) ?? 0) + 1);
    }
    expect([...perWebhook.keys()].sort()).toEqual(ids.map((id) => `msg_${id}`).sort());
    expect([...perWebhook.entries()].filter(([, n]) => n !== 1)).toEqual([]);

    const consumer = await waitFor(() => jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER), { what: 'consumer info' });
    console.log(
      `[measure] jobs consumer: ${consumer.delivered.stream_seq} messages, ` +
        `${consumer.delivered.consumer_seq - consumer.delivered.stream_seq} redeliveries`,
    );

    // every process still runs, and is ready on Postgres, Redis and NATS
    await cluster.ready();
    const reconnected: string[] = [];
    for (const { name, proc, readyUrl } of apps) {
      expect(proc.child.exitCode, `${name} exited`).toBeNull();
      expect(proc.child.signalCode, `${name} was killed`).toBeNull();
      const ready = await waitFor(
        async () => {
          const res = await fetch(readyUrl);
          return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
        },
        { timeoutMs: 20_000, what: `${name} ready` },
      );
      expect(JSON.stringify(ready), name).toContain('"nats"');
      // a process that lost its node got another
      const statuses = proc.output.filter((l) => l.includes('"msg":"nats status"'));
      const lastDisconnect = statuses.findLastIndex((l) => l.includes('"nats":"disconnect"'));
      const lastReconnect = statuses.findLastIndex((l) => l.includes('"nats":"reconnect"'));
      expect(lastReconnect, `${name} reconnected after its last disconnect`).toBeGreaterThanOrEqual(lastDisconnect);
      console.log(`[measure] ${name}: ${lastDisconnect >= 0 ? 'lost its node and reconnected' : 'kept its node'}`);
      if (lastDisconnect >= 0) reconnected.push(name);
    }
    expect(reconnected.length, 'some app was connected to the killed node').toBeGreaterThan(0);
  });
});

async function allDelivered(): Promise<boolean> {
  const row = await database.db
    .selectFrom('callback_deliveries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'delivered')
    .where('job_id', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n) === JOBS;
}
