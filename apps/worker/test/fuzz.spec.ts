// Property-based fuzz of everything the worker consumes: the JetStream jobs subject (submit
// messages of the contract's shape, mutated and hostile, naming queued, finished and unknown jobs,
// some queued jobs holding hostile stored requests), `rates.cbr.fetch-day` requests, and
// `tasks.rates-refresh.requested`, and the rate changes alert evaluation takes off JetStream
// (`rates.binance.updated`, `rates.cbr.updated`: none may fire an alert the stored rates do not call
// for, nor write anything). The worker runs as a real process over a database and a NATS of
// this file's own, its feeds pointed at the replay server. A message the contract refuses, or one
// naming no queued job, is dropped without a write; a queued job gets exactly one result; every
// fetch-day request gets a reply of the contract, and a refusal writes nothing; afterwards the
// process is alive, ready, still working, with no error logged. Replay with FUZZ_SEED=<seed>.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SUBJECTS, cbrFetchDayReply, cbrFetchDayRequest } from '@ratewire/contracts';
import { JOBS_CONSUMER, JOBS_STREAM, ensureJobsStream, jobSubmitMessage } from '@ratewire/jobs';
import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import {
  createTestDatabase,
  spawnApp,
  startReplayServer,
  waitFor,
  type AppProcess,
  type ReplayServer,
  type TestDatabase,
} from '@ratewire/testkit';
import {
  brokenJsonText,
  fc,
  fuzz,
  fuzzCases,
  fuzzSummary,
  hostileJsonValue,
  hostileNumber,
  hostileString,
  jsonText,
  mutated,
  runs,
} from '@ratewire/testkit/fuzz';
import { insertAlert } from '@ratewire/testkit/alerts';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import { watchWrites, type RowWrite, type WriteWatch } from '@ratewire/testkit/write-watch';
import type { JetStreamClient, JetStreamManager } from 'nats';

import { ALERT_EVALUATORS, ALERT_TICKS_STREAM } from '../src/alerts/alerts.consumer.ts';
import { EXAMPLE_REQUEST, seedJobs, seedUser } from './jobs-support.ts';

const JOB_RUNS = runs(500);
const FETCH_RUNS = runs(250);
const TASK_RUNS = runs(200);
const TICK_RUNS = runs(200);

const log = createLogger('worker-fuzz', 'silent');
let database: TestDatabase;
let natsServer: PrivateServer;
let replay: ReplayServer;
let worker: AppProcess;
let healthUrl: string;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let writes: WriteWatch;
/** Job events the worker published (jobs.exchange.completed|failed), by job id. */
const jobEvents: string[] = [];
/** Queued jobs to name in messages: valid stored requests, and hostile ones. */
let pool: string[] = [];

const HOSTILE_REQUESTS: unknown[] = [
  { bills: 'x' },
  { bills: [] },
  { bills: null },
  {},
  { bills: [{ denomination_id: 1, denomination: '1e308', count: 1 }] },
  { bills: [{ denomination_id: 1, denomination: 1e308, count: Number.MAX_SAFE_INTEGER }] },
  { bills: [{ denomination_id: -1, denomination: '10', count: 0 }] },
  { bills: [{ denomination_id: 1, denomination: `${'9'.repeat(30)}.${'9'.repeat(30)}`, count: 2 ** 53 - 1 }] },
  { bills: [{ denomination_id: 1, denomination: 'ａ１', count: 1 }] },
  { bills: [{ denomination_id: 1, denomination: { a: [1] }, count: '5' }] },
  { bills: Array.from({ length: 10_001 }, (_, i) => ({ denomination_id: i, denomination: '1', count: 1 })) },
  'a string',
  [1, 2, 3],
];

beforeAll(async () => {
  [database, natsServer, replay] = await Promise.all([createTestDatabase(), startPrivateNats(), startReplayServer()]);
  const userId = await seedUser(database.db);
  const valid = await seedJobs(database.db, userId, 200, { prefix: 'fuzz-valid' });
  const hostile: string[] = [];
  for (const [i, request] of HOSTILE_REQUESTS.entries()) {
    for (const rate of ['75.5', '0.0000000000000000000000000001', `${'9'.repeat(40)}`]) {
      const [id] = await seedJobs(database.db, userId, 1, { prefix: `fuzz-hostile-${i}-${rate.length}` });
      await database.db
        .updateTable('exchange_jobs')
        .set({ request: JSON.stringify(request), rate })
        .where('id', '=', id!)
        .execute();
      hostile.push(id!);
    }
  }
  pool = [...valid, ...hostile];
  writes = await watchWrites(database.db);
  nc = await createNats([natsServer.url], log, 'worker-fuzz');
  await ensureJobsStream(nc);
  js = nc.jetstream();
  jsm = await nc.jetstreamManager();
  nc.subscribe(`${SUBJECTS.jobsCompleted.replace(/\.completed$/, '')}.*`, {
    callback: (err, msg) => {
      if (err || !/\.(completed|failed)$/.test(msg.subject)) return;
      jobEvents.push((JSON.parse(msg.string()) as { job_id: string }).job_id);
    },
  });
  worker = spawnApp('worker', {
    DATABASE_URL: database.url,
    NATS_URL: natsServer.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    CBR_BASE_URL: replay.url,
    BINANCE_BASE_URL: replay.url,
    CBR_POLL_INTERVAL_MS: '86400000',
    BINANCE_POLL_INTERVAL_MS: '86400000',
  });
  const started = await worker.waitForLine(/"msg":"worker started"/, 30_000);
  healthUrl = `http://127.0.0.1:${(JSON.parse(started) as { health: { port: number } }).health.port}`;
  await worker.waitForLine(/"msg":"consuming exchange jobs"/, 30_000);
  // the leader polls both feeds once at start: wait until that is written and the writes stop
  await waitFor(
    async () => {
      const rows = await database.db.selectFrom('feed_status').select('last_attempt_at').execute();
      return rows.length === 2 && rows.every((r) => r.last_attempt_at !== null);
    },
    { timeoutMs: 30_000, what: 'the first polls' },
  );
  let last = await writes.mark();
  await waitFor(
    async () => {
      await new Promise((r) => setTimeout(r, 300));
      const now = await writes.mark();
      const quiet = now === last;
      last = now;
      return quiet;
    },
    { timeoutMs: 30_000, what: 'the start-up writes to end' },
  );
}, 120_000);

afterAll(async () => {
  if (fuzzCases()) process.stdout.write(`${fuzzSummary()}\n`);
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  await nc?.drain().catch(() => {});
  await replay?.close();
  await natsServer?.close();
  await database?.drop();
});

const clip = (p: string | Buffer) => JSON.stringify(p.toString().slice(0, 300));
const alive = () => {
  if (worker.child.exitCode !== null) throw new Error(`the worker exited:\n${worker.output.slice(-20).join('\n')}`);
};

// ---- the JetStream jobs subject ---------------------------------------------------------

const jobMessage = (): fc.Arbitrary<string | Buffer> => {
  const jobId = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...pool) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom(pool[0]!.toUpperCase(), ` ${pool[1]}`, pool[2]!.replace(/-/g, '')) },
    { weight: 1, arbitrary: hostileString },
  );
  const valid = fc.record({ job_id: jobId });
  return fc.oneof(
    { weight: 6, arbitrary: mutated(valid).map(jsonText) },
    { weight: 2, arbitrary: hostileJsonValue.map(jsonText) },
    { weight: 1, arbitrary: brokenJsonText },
  );
};

/** Resolves once the shared consumer holds nothing: every message handed out and acknowledged (or terminated). */
async function drained(): Promise<void> {
  await waitFor(
    async () => {
      alive();
      const info = await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { timeoutMs: 20_000, intervalMs: 2, what: 'the job consumer to drain' },
  );
}

async function statusOf(id: string): Promise<string | undefined> {
  const row = await database.db.selectFrom('exchange_jobs').select('status').where('id', '=', id).executeTakeFirst();
  return row?.status;
}

let expectedEvents = 0;

async function checkJob(payload: string | Buffer): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString());
  } catch {
    parsed = undefined;
  }
  const message = jobSubmitMessage.safeParse(parsed);
  const before = message.success ? await statusOf(message.data.job_id) : undefined;
  const mark = await writes.mark();
  await js.publish(SUBJECTS.jobsSubmit, typeof payload === 'string' ? payload : new Uint8Array(payload));
  await drained();
  const written: RowWrite[] = await writes.since(mark);
  const what = `${clip(payload)} (job ${before ?? 'none'})`;
  if (before === 'queued' || before === 'running') {
    const after = message.success ? await statusOf(message.data.job_id) : undefined;
    if (after !== 'done' && after !== 'failed') throw new Error(`${what}: the job is ${after}, not finished`);
    const rows = written.filter((w) => w.table === 'exchange_jobs');
    if (rows.length !== 1) throw new Error(`${what}: ${rows.length} result writes, expected 1`);
    expectedEvents++;
  } else if (written.length) {
    throw new Error(`${what}: dropped, yet wrote ${JSON.stringify(written.slice(0, 5))}`);
  }
}

// ---- rate changes, as alert evaluation takes them ---------------------------------------------

/** Alerts any stored observation of their symbols would fire: a message must never make one fire. */
let eager: string[] = [];

const symbolOrCode = fc.oneof(fc.constantFrom('BTCUSDT', 'ETHUSDT', 'USD', 'EUR'), hostileString);
const decimalText = fc.oneof(
  fc.constantFrom('1', '0.00000001', '65000.5', '1e308', '-1', `${'9'.repeat(40)}`),
  hostileNumber,
  hostileString,
);
const rateChange = (): fc.Arbitrary<{ subject: string; payload: string | Buffer }> =>
  fc.oneof(
    fc
      .oneof(
        mutated(
          fc.record({
            ts: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              hostileString,
            ),
            changed: fc.array(
              fc.record({
                symbol: symbolOrCode,
                price: decimalText,
                previous: fc.oneof(decimalText, fc.constant(null)),
              }),
              { maxLength: 5 },
            ),
          }),
        ).map(jsonText),
        hostileJsonValue.map(jsonText),
        brokenJsonText,
      )
      .map((payload) => ({ subject: SUBJECTS.ratesBinanceUpdated, payload })),
    fc
      .oneof(
        mutated(
          fc.record({
            date: fc.oneof(day, hostileString),
            changed: fc.array(
              fc.record({
                code: symbolOrCode,
                value: decimalText,
                nominal: fc.oneof(fc.constant(1), hostileNumber),
                unit_rate: decimalText,
                previous: fc.constant(null),
              }),
              { maxLength: 5 },
            ),
          }),
        ).map(jsonText),
        hostileJsonValue.map(jsonText),
      )
      .map((payload) => ({ subject: SUBJECTS.ratesCbrUpdated, payload })),
  );

// ---- rates.cbr.fetch-day ---------------------------------------------------------------------

const day = fc
  .date({ min: new Date('1985-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const fetchDayRequest: fc.Arbitrary<string | Buffer> = fc.oneof(
  {
    weight: 3,
    arbitrary: mutated(fc.record({ date: fc.oneof(day, fc.constantFrom('2025-02-30', '2025-1-1')) })).map(jsonText),
  },
  { weight: 1, arbitrary: fc.record({ date: fc.oneof(hostileString, hostileNumber) }).map(jsonText) },
  { weight: 1, arbitrary: hostileJsonValue.map(jsonText) },
  { weight: 1, arbitrary: brokenJsonText },
);

async function checkFetchDay(payload: string | Buffer): Promise<void> {
  alive();
  const mark = await writes.mark();
  const msg = await nc.request(
    SUBJECTS.ratesCbrFetchDay,
    typeof payload === 'string' ? payload : new Uint8Array(payload),
    {
      timeout: 15_000,
    },
  );
  let body: unknown;
  try {
    body = JSON.parse(msg.string());
  } catch {
    throw new Error(`${clip(payload)}: a reply that is not JSON: ${msg.string().slice(0, 200)}`);
  }
  const reply = cbrFetchDayReply.safeParse(body);
  if (!reply.success) throw new Error(`${clip(payload)}: a reply outside the contract: ${msg.string().slice(0, 300)}`);
  let request: unknown;
  try {
    request = JSON.parse(payload.toString());
  } catch {
    request = undefined;
  }
  if (!cbrFetchDayRequest.safeParse(request).success && reply.data.ok) {
    throw new Error(`${clip(payload)}: a request the contract refuses was answered ok`);
  }
  if (!reply.data.ok || reply.data.effective === null) {
    const written = await writes.since(mark);
    if (written.length) throw new Error(`${clip(payload)}: refused, yet wrote ${JSON.stringify(written.slice(0, 5))}`);
  }
}

// ---- tasks.rates-refresh.requested ------------------------------------------------------------

const taskRequest: fc.Arbitrary<string | Buffer> = fc.oneof(
  mutated(fc.record({ task_id: fc.uuid(), status: fc.constant('queued') })).map(jsonText),
  hostileJsonValue.map(jsonText),
  brokenJsonText,
);

// ---- the properties ---------------------------------------------------------------------------

describe('worker fuzz: every subject it consumes', () => {
  it('jobs.exchange.submit: a refused or unknown message writes nothing, a queued job gets one result', async () => {
    const events = jobEvents.length;
    expect(await fuzz('worker jobs', jobMessage(), checkJob, JOB_RUNS)).toBe(JOB_RUNS);
    await waitFor(() => jobEvents.length - events >= expectedEvents, { what: 'the job events' });
    expect(jobEvents.length - events).toBe(expectedEvents);
    expect(expectedEvents).toBeGreaterThan(0);
  }, 300_000);

  it('rates.cbr.fetch-day: every request answered within the contract, a refusal writes nothing', async () => {
    expect(await fuzz('worker fetch-day', fetchDayRequest, checkFetchDay, FETCH_RUNS)).toBe(FETCH_RUNS);
  }, 300_000);

  it('tasks.rates-refresh.requested: whatever the payload, only a queued task is run', async () => {
    const mark = await writes.mark();
    expect(
      await fuzz(
        'worker task requests',
        taskRequest,
        async (payload) => {
          alive();
          nc.publish(
            `${SUBJECTS.tasksRatesRefresh}.requested`,
            typeof payload === 'string' ? payload : new Uint8Array(payload),
          );
          await nc.flush();
        },
        TASK_RUNS,
      ),
    ).toBe(TASK_RUNS);
    // requests are handled in order: once a real task published after them is done, so are they
    const task = await database.db
      .insertInto('tasks')
      .values({ kind: 'rates-refresh', requested_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    nc.publish(`${SUBJECTS.tasksRatesRefresh}.requested`, JSON.stringify({ task_id: task.id, status: 'queued' }));
    await waitFor(
      async () => {
        const row = await database.db.selectFrom('tasks').select('status').where('id', '=', task.id).executeTakeFirst();
        return row?.status === 'done' || row?.status === 'failed';
      },
      { timeoutMs: 30_000, what: 'the task to finish' },
    );
    const taskWrites = (await writes.since(mark)).filter((w) => w.table === 'tasks');
    // our insert, then the worker's claim and finish of that one task: nothing else
    expect(taskWrites.map((w) => w.op)).toEqual(['INSERT', 'UPDATE', 'UPDATE']);
  }, 300_000);

  it('rates.binance|cbr.updated: alert evaluation fires nothing the stored rates do not call for, writes nothing', async () => {
    // the start-up polls' changes are judged first (no alert existed then); then alerts that any
    // stored observation of their symbols fires (above a level no rate is under, judged at the next
    // observation of their symbol as new alerts are)
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(ALERT_TICKS_STREAM, ALERT_EVALUATORS);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 30_000, what: 'the start-up rate changes judged' },
    );
    const owner = await seedUser(database.db);
    eager = [];
    for (const [source, symbol] of [
      ['binance', 'BTCUSDT'],
      ['binance', 'ETHUSDT'],
      ['cbr', 'USD'],
    ] as const) {
      eager.push(
        (await insertAlert(database.db, owner, { source, symbol, condition_type: 'above', level: '0.00000001' })).id,
      );
    }
    const mark = await writes.mark();
    expect(
      await fuzz(
        'worker rate changes',
        rateChange(),
        async ({ subject, payload }) => {
          alive();
          nc.publish(subject, typeof payload === 'string' ? payload : new Uint8Array(payload));
          await nc.flush();
        },
        TICK_RUNS,
      ),
    ).toBe(TICK_RUNS);
    // ticks are judged in order: once a real change published after them has fired, so were they
    const at = new Date();
    await database.db
      .insertInto('binance_price_history')
      .values({ symbol: 'ETHUSDT', price: '2', observed_at: at })
      .execute();
    nc.publish(
      SUBJECTS.ratesBinanceUpdated,
      JSON.stringify({ ts: at.toISOString(), changed: [{ symbol: 'ETHUSDT', price: '2', previous: '1' }] }),
    );
    const firings = () => database.db.selectFrom('alert_events').select(['alert_id', 'observed_at']).execute();
    await waitFor(async () => (await firings()).length > 0, { timeoutMs: 30_000, what: 'the real change judged' });
    expect((await firings()).map((f) => [f.alert_id, f.observed_at.toISOString()])).toEqual([
      [eager[1], at.toISOString()],
    ]);
    // nothing but our own history row and that one firing (and its alert's new state) was written
    const written = [...new Set((await writes.since(mark)).map((w) => w.table))].sort();
    expect(written).toEqual(['alert_events', 'alerts', 'binance_price_history']);
  }, 300_000);

  it('the worker is alive, ready and working afterwards, with no error logged', async () => {
    alive();
    expect((await fetch(`${healthUrl}/readyz`)).status).toBe(200);
    const userId = await seedUser(database.db);
    const [id] = await seedJobs(database.db, userId, 1, { request: EXAMPLE_REQUEST, prefix: randomUUID() });
    await js.publish(SUBJECTS.jobsSubmit, JSON.stringify({ job_id: id }));
    await waitFor(async () => (await statusOf(id!)) === 'done', { what: 'a job after the fuzz' });
    expect(worker.output.filter((l) => /"level":"(error|fatal)"|Uncaught|node:internal/.test(l))).toEqual([]);
    expect(fuzzCases()).toBe(JOB_RUNS + FETCH_RUNS + TASK_RUNS + TICK_RUNS);
  });
});
