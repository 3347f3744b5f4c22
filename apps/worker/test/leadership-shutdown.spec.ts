// Feed leadership across a shutdown, with two real worker processes over one database. A worker's
// shutdown is held in its in-flight phase: a callback receiver and an SMTP server that never answer
// keep its callback and mail steps busy until their timeouts. Meanwhile the lock comes free. A
// stopping worker must not take it (nor poll); a stopping leader lets go of it at once, so the
// other leads while the first is still finishing its work.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { insertUserWithConfirmation } from '@ratewire/db';
import { createTestDatabase, spawnApp, waitFor, type AppProcess, type TestDatabase } from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

import { processBatch } from '../src/jobs/jobs.processor.ts';
import { seedJobs, seedUser } from './jobs-support.ts';

let database: TestDatabase;
let nats: PrivateServer;
let replay: ReplayServer;
let receiver: Receiver;
let smtp: Server;
const smtpSockets = new Set<Socket>();
const workers: AppProcess[] = [];

const leads = (w: AppProcess) => w.output.some((l) => l.includes('"msg":"became feed leader"'));
const polled = (w: AppProcess) =>
  w.output.filter((l) => /"feed":"(cbr|binance)"/.test(l) && /"msg":"\d+ (rates|prices)/.test(l));
const heldSteps = (w: AppProcess) =>
  w.output.filter((l) => l.includes('"msg":"shutdown step failed"') && l.includes('timed out')).length;
const alive = (w: AppProcess) => w.child.exitCode === null && w.child.signalCode === null;

beforeAll(async () => {
  database = await createTestDatabase();
  nats = await startPrivateNats();
  replay = await startReplayServer();
  // answers nothing until the test ends: every callback sent is in flight from then on
  receiver = await startReceiver();
  receiver.delayMs = 120_000;
  // accepts and never greets: a mail being sent stays in flight
  smtp = createServer((socket) => {
    smtpSockets.add(socket);
    socket.on('close', () => smtpSockets.delete(socket));
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  for (const w of workers) {
    if (alive(w)) {
      w.child.kill('SIGCONT');
      w.child.kill('SIGKILL');
    }
  }
  await Promise.all(workers.map((w) => w.exited));
  for (const s of smtpSockets) s.destroy();
  await new Promise<void>((r) => smtp?.close(() => r()));
  await receiver?.stop();
  await replay?.close();
  await nats?.close();
  await database?.drop();
});

async function spawn(ready: RegExp): Promise<AppProcess> {
  const w = spawnApp('worker', {
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    CBR_BASE_URL: replay.url,
    BINANCE_BASE_URL: replay.url,
    BINANCE_STREAM: 'off',
    CBR_POLL_INTERVAL_MS: '1000',
    BINANCE_POLL_INTERVAL_MS: '1000',
    EXCHANGE_CALLBACK_TOKEN: 'leadership-test-token',
    // longer than the shutdown gives a step: the sends below hold their steps until it gives up
    CALLBACK_TIMEOUT_MS: '60000',
    SMTP_URL: `smtp://127.0.0.1:${(smtp.address() as AddressInfo).port}`,
    MAIL_TIMEOUT_MS: '60000',
  });
  workers.push(w);
  await w.waitForLine(ready, 30_000);
  return w;
}

/** A callback and a mail, both due now: whichever worker runs takes them and waits on them. */
async function holdWork(): Promise<void> {
  const callbacksBefore = receiver.received.length;
  const mailsBefore = smtpSockets.size;
  const ids = await seedJobs(database.db, await seedUser(database.db), 2);
  await processBatch(database.db, ids, { defaultCallbackUrl: receiver.url, firstCallbackDelayMs: 0 });
  await insertUserWithConfirmation(database.db, { email: `${randomUUID()}@lead.test`, name: null, passwordHash: 'x' });
  await waitFor(() => receiver.received.length > callbacksBefore && smtpSockets.size > mailsBefore, {
    timeoutMs: 15_000,
    what: 'a callback and a mail in flight',
  });
}

describe('feed leadership while a worker shuts down', () => {
  it('a stopping follower does not take the lock that comes free, and polls nothing', { timeout: 90_000 }, async () => {
    const leader = await spawn(/"msg":"became feed leader"/);
    // frozen, the leader keeps its session and so the lock
    leader.child.kill('SIGSTOP');
    const follower = await spawn(/"msg":"worker started"/);
    await holdWork();

    follower.child.kill('SIGTERM');
    await follower.waitForLine(/"msg":"shutting down"/);
    // the lock comes free while the follower finishes its in-flight work
    leader.child.kill('SIGKILL');
    await leader.exited;
    const requestsAfterLeader = replay.requests.length;
    const stoppedAt = Date.now();
    expect(await follower.exited).toBe(0);
    console.log(`[measure] follower shutdown after the leader died: ${Date.now() - stoppedAt} ms`);

    // its shutdown was held (the steps gave up on the sends), long past the follower's retry interval
    expect(heldSteps(follower)).toBeGreaterThanOrEqual(2);
    expect(leads(follower)).toBe(false);
    expect(polled(follower)).toEqual([]);
    expect(replay.requests.length).toBe(requestsAfterLeader);
    const status = await database.db.selectFrom('feed_status').select(['source', 'last_success_at']).execute();
    const lastPoll = Math.max(...status.map((s) => s.last_success_at?.getTime() ?? 0));
    expect(lastPoll).toBeLessThan(stoppedAt);
  });

  it(
    'a stopping leader lets the lock go first: the other leads while it still finishes its work',
    { timeout: 90_000 },
    async () => {
      const leader = await spawn(/"msg":"became feed leader"/);
      const other = await spawn(/"msg":"worker started"/);
      expect(leads(other)).toBe(false);
      // only the leader takes the work that holds its shutdown
      other.child.kill('SIGSTOP');
      await holdWork();
      other.child.kill('SIGCONT');

      leader.child.kill('SIGTERM');
      await leader.waitForLine(/"msg":"shutting down"/);
      const termAt = Date.now();
      await waitFor(() => leads(other) || !alive(leader), { timeoutMs: 30_000, intervalMs: 5, what: 'a new leader' });
      const leaderStillRunning = alive(leader);
      console.log(`[measure] the other led ${Date.now() - termAt} ms after the leader's SIGTERM`);
      expect(leaderStillRunning).toBe(true);
      expect(leads(other)).toBe(true);
      expect(await leader.exited).toBe(0);
      expect(heldSteps(leader)).toBeGreaterThanOrEqual(2);
      await waitFor(() => polled(other).length > 0, { timeoutMs: 15_000, what: 'the new leader to poll' });
      other.child.kill('SIGTERM');
      await other.exited;
    },
  );
});
