// Two real worker processes over one database: exactly one polls; SIGKILL it and the other
// takes over; the leader runs a queued rates-refresh task and reports its progress.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REDIS_NOTIFICATIONS, SUBJECTS, type NotificationMessage, type TaskEvent } from '@ratewire/contracts';
import { createRedis, type NatsConnection, type RedisClient } from '@ratewire/runtime';
import {
  createTestDatabase,
  serviceUrls,
  spawnApp,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '@ratewire/testkit';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

import { collect, connectNats, testLog } from './support.ts';

let database: TestDatabase;
let replay: ReplayServer;
let nats: NatsConnection;
let redis: RedisClient;
const workers: AppProcess[] = [];

const polled = (w: AppProcess, feed: 'cbr' | 'binance') =>
  w.output.filter((l) => l.includes(`"feed":"${feed}"`) && /"msg":"\d+ (rates|prices)/.test(l)).length;
const leads = (w: AppProcess) => w.output.some((l) => l.includes('"msg":"became feed leader"'));

function startWorker(): AppProcess {
  const w = spawnApp('worker', {
    ...serviceUrls(),
    DATABASE_URL: database.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    CBR_BASE_URL: replay.url,
    BINANCE_BASE_URL: replay.url,
    CBR_POLL_INTERVAL_MS: '1000',
    BINANCE_POLL_INTERVAL_MS: '1000',
  });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  database = await createTestDatabase();
  replay = await startReplayServer();
  nats = await connectNats();
  redis = createRedis(serviceUrls().REDIS_URL, testLog, 'worker-test');
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await nats?.drain();
  await redis?.quit();
  await replay?.close();
  await database?.drop();
});

describe('two workers', () => {
  let leader: AppProcess;
  let follower: AppProcess;

  it('exactly one becomes leader and polls both feeds; the other polls nothing', async () => {
    const a = startWorker();
    const b = startWorker();
    await Promise.all([
      a.waitForLine(/"msg":"worker started"/, 30_000),
      b.waitForLine(/"msg":"worker started"/, 30_000),
    ]);
    await waitFor(() => leads(a) || leads(b), { timeoutMs: 15_000, what: 'a leader' });
    [leader, follower] = leads(a) ? [a, b] : [b, a];
    // the leader polls repeatedly; meanwhile the follower must not poll even once
    await waitFor(() => polled(leader, 'cbr') >= 3 && polled(leader, 'binance') >= 3, {
      timeoutMs: 20_000,
      what: 'three polls of each feed',
    });
    expect(leads(follower)).toBe(false);
    expect(polled(follower, 'cbr')).toBe(0);
    expect(polled(follower, 'binance')).toBe(0);
    const rates = await database.db.selectFrom('cbr_rates').select('code').execute();
    expect(rates.length).toBeGreaterThan(0);
    const prices = await database.db.selectFrom('binance_prices').select('symbol').execute();
    expect(prices.length).toBe(1695);
  });

  it('the leader runs a queued rates-refresh task: running then done, on Redis notifications and NATS', async () => {
    const sub = createRedis(serviceUrls().REDIS_URL, testLog, 'worker-test-sub');
    const notes: NotificationMessage[] = [];
    const ids = new Set<string>();
    sub.on('message', (_channel: string, message: string) => {
      const note = JSON.parse(message) as NotificationMessage;
      if ('task_id' in note && ids.has(note.task_id)) notes.push(note);
    });
    const taskEvents = collect<TaskEvent>(
      nats,
      `${SUBJECTS.tasksRatesRefresh}.*`,
      (e, subject) => ids.has(e.task_id) && !subject.endsWith('.requested'),
    );
    try {
      await sub.subscribe(REDIS_NOTIFICATIONS);
      await taskEvents.settle(nats);
      const task = await database.db
        .insertInto('tasks')
        .values({ kind: 'rates-refresh', detail: null, requested_by: null, started_at: null, finished_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.add(task.id);
      nats.publish(`${SUBJECTS.tasksRatesRefresh}.requested`, JSON.stringify({ task_id: task.id, status: 'queued' }));
      await waitFor(() => notes.some((n) => n.status === 'done' || n.status === 'failed'), {
        timeoutMs: 20_000,
        what: 'task finished',
      });
      expect(notes.map((n) => n.status)).toEqual(['running', 'done']);
      expect(notes[1]?.detail).toMatch(/cbr: \d+ rates for .*; binance: \d+ prices/);
      const row = await database.db.selectFrom('tasks').selectAll().where('id', '=', task.id).executeTakeFirstOrThrow();
      expect(row.status).toBe('done');
      expect(row.detail).toBe(notes[1]?.detail);
      await waitFor(() => taskEvents.messages.length >= 2, { timeoutMs: 5000, what: 'task events on NATS' });
      expect(taskEvents.messages.map((m) => m.subject)).toEqual([
        `${SUBJECTS.tasksRatesRefresh}.running`,
        `${SUBJECTS.tasksRatesRefresh}.done`,
      ]);
      expect(leader.output.some((l) => l.includes(task.id))).toBe(true);
      expect(follower.output.some((l) => l.includes(task.id))).toBe(false);
    } finally {
      taskEvents.stop();
      await sub.quit();
    }
  });

  it('SIGKILL the leader: the other takes over (within the 15 s safety net) and polls', async () => {
    const before = { cbr: polled(follower, 'cbr'), binance: polled(follower, 'binance') };
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await leader.exited;
    await waitFor(() => leads(follower), { timeoutMs: 15_000, what: 'the follower to take over' });
    const tookOverMs = Date.now() - killedAt;
    testLog.info({ tookOverMs }, 'failover');
    await waitFor(() => polled(follower, 'cbr') > before.cbr && polled(follower, 'binance') > before.binance, {
      timeoutMs: 15_000,
      what: 'the new leader to poll',
    });
    const status = await database.db.selectFrom('feed_status').selectAll().orderBy('source').execute();
    expect(status.map((s) => [s.source, s.consecutive_failures])).toEqual([
      ['binance', 0],
      ['cbr', 0],
    ]);
  });

  it('a task queued while no worker listened is found by the table sweep', async () => {
    const task = await database.db
      .insertInto('tasks')
      .values({ kind: 'rates-refresh', detail: null, requested_by: null, started_at: null, finished_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    // no NATS request at all: the leader's periodic sweep must pick it up
    await waitFor(
      async () => {
        const row = await database.db
          .selectFrom('tasks')
          .select('status')
          .where('id', '=', task.id)
          .executeTakeFirstOrThrow();
        return row.status === 'done' ? row : undefined;
      },
      { timeoutMs: 20_000, what: 'the swept task to finish' },
    ).then((row) => row);
    const row = await database.db.selectFrom('tasks').selectAll().where('id', '=', task.id).executeTakeFirstOrThrow();
    expect(row.detail).toMatch(/^cbr: .*; binance: /);
    expect(row.finished_at).not.toBeNull();
  });
});
