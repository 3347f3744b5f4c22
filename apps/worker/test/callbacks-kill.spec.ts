// Callback delivery by a real worker process killed with SIGKILL in the middle of a backlog: the
// receiver holds every answer a while, so at the kill some callbacks are answered and stored and
// others are on the wire. A second worker finishes the backlog. Only the callbacks the killed
// worker had in flight (at most CALLBACK_CONCURRENCY) are sent twice; none is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  FEEDS_OUT_OF_REACH,
  createTestDatabase,
  killApps,
  spawnApp,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

import { processBatch } from '../src/jobs/jobs.processor.ts';
import { seedJobs, seedUser } from './jobs-support.ts';

const JOBS = 60;
const CONCURRENCY = 4;
const HOLD_MS = 250;

let database: TestDatabase;
let nats: PrivateServer;
let receiver: Receiver;
const workers: AppProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  nats = await startPrivateNats();
  receiver = await startReceiver();
  receiver.delayMs = HOLD_MS;
});
afterAll(async () => {
  await killApps(workers);
  await receiver?.stop();
  await nats?.close();
  await database?.drop();
});

const spawn = async () => {
  const w = spawnApp('worker', {
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    ...FEEDS_OUT_OF_REACH,
    EXCHANGE_CALLBACK_TOKEN: 'kill-test-token',
    CALLBACK_CONCURRENCY: String(CONCURRENCY),
    // the lease of a claimed row is this + 5 s: the second worker resends the killed one's rows after it
    CALLBACK_TIMEOUT_MS: '2000',
  });
  workers.push(w);
  await w.waitForLine(/"msg":"worker started"/, 30_000);
  return w;
};

/** Requests the receiver got, per webhook-id. */
const receivedPerId = () => {
  const counts = new Map<string, number>();
  for (const r of receiver.received) {
    const id = String(r.headers['webhook-id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
};

describe('callback delivery with the worker killed mid-backlog', () => {
  it(
    'sends again only what was in flight (at most CALLBACK_CONCURRENCY), and delivers everything',
    { timeout: 120_000 },
    async () => {
      const owner = await seedUser(database.db);
      const ids = await seedJobs(database.db, owner, JOBS);
      await processBatch(database.db, ids, { defaultCallbackUrl: receiver.url, firstCallbackDelayMs: 0 });

      const first = await spawn();
      // some answered, more on the wire: kill it without a chance to store anything more
      await waitFor(() => receivedPerId().size >= 3 * CONCURRENCY, {
        timeoutMs: 30_000,
        intervalMs: 5,
        what: 'the first callbacks',
      });
      first.child.kill('SIGKILL');
      await first.exited;
      const atKill = receivedPerId().size;
      const storedAtKill = await database.db
        .selectFrom('callback_deliveries')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'delivered')
        .executeTakeFirstOrThrow();
      console.log(`[measure] at the kill: ${atKill} callbacks received, ${storedAtKill.n} stored as delivered`);
      expect(Number(storedAtKill.n)).toBeLessThan(JOBS);

      await spawn();
      const rows = await waitFor(
        async () => {
          const all = await database.db.selectFrom('callback_deliveries').select(['job_id', 'status']).execute();
          return all.every((r) => r.status === 'delivered') ? all : null;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: 'every callback delivered' },
      );
      expect(rows).toHaveLength(JOBS);

      const counts = receivedPerId();
      const twice = [...counts.values()].filter((n) => n === 2).length;
      console.log(`[measure] sent twice after the kill: ${twice} (concurrency ${CONCURRENCY})`);
      expect(new Set(counts.keys())).toEqual(new Set(ids.map((id) => `msg_${id}`)));
      expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
      expect(twice).toBeLessThanOrEqual(CONCURRENCY);
    },
  );
});
