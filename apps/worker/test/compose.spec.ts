// The worker's composition root in-process, as main.ts runs it: a database of its own, the real
// Redis, and a NATS of this file's own (the exchange-job stream and its shared consumer are not
// shared with the other suites). Feeds point at a closed port: only leadership is looked at.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SUBJECTS, workerSettingsSchema } from '@ratewire/contracts';
import { insertUserWithConfirmation } from '@ratewire/db';
import { ensureJobsStream } from '@ratewire/jobs';
import { startMailbox } from '@ratewire/mailbox';
import { createNats, createRedis, parseSettings, type NatsConnection, type RedisClient } from '@ratewire/runtime';
import { createTestDatabase, serviceUrls, waitFor, type TestDatabase } from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

import { composeWorker } from '../src/compose.ts';
import { LeaderElector } from '../src/leadership/leader-elector.ts';
import { seedJobs, seedUser } from './jobs-support.ts';
import { testLog } from './support.ts';

let database: TestDatabase;
let natsServer: PrivateServer;
let nats: NatsConnection;
let redis: RedisClient;
let receiver: Receiver;

beforeAll(async () => {
  [database, natsServer, receiver] = await Promise.all([createTestDatabase(), startPrivateNats(), startReceiver()]);
  nats = await createNats([natsServer.url], testLog, 'worker-compose-test');
  redis = createRedis(serviceUrls().REDIS_URL, testLog, 'worker-compose-test');
  await ensureJobsStream(nats);
});
afterAll(async () => {
  await nats?.drain();
  redis?.disconnect();
  await Promise.all([natsServer?.close(), receiver?.stop(), database?.drop()]);
});

describe('composeWorker', () => {
  it('leads its database, carries a submitted job through to its callback, and lets go of all on close', async () => {
    const settings = parseSettings(workerSettingsSchema, {
      ...serviceUrls(),
      DATABASE_URL: database.url,
      CBR_BASE_URL: 'http://127.0.0.1:9',
      BINANCE_BASE_URL: 'http://127.0.0.1:9',
      EXCHANGE_CALLBACK_URL: receiver.url,
      EXCHANGE_CALLBACK_TOKEN: 'compose-test-token',
      CALLBACK_RETRY_SCHEDULE_MS: '0',
    });
    const worker = composeWorker({ settings, log: testLog, db: database.db, nats, redis });
    await waitFor(() => worker.elector.isLeader, { what: 'feed leadership' });
    // no SMTP_URL: mail stays queued, nothing tries to send it
    expect(worker.mail).toBeNull();

    const [id] = await seedJobs(database.db, await seedUser(database.db), 1);
    await nats.jetstream().publish(SUBJECTS.jobsSubmit, JSON.stringify({ job_id: id }));
    await waitFor(() => receiver.received.length === 1, { what: 'the job callback', timeoutMs: 15_000 });
    expect(receiver.received[0]!.headers['webhook-id']).toBe(`msg_${id}`);

    await worker.close();
    expect(worker.elector.isLeader).toBe(false);
    // the advisory lock went with it: another replica leads at once
    const next = new LeaderElector({ databaseUrl: database.url, log: testLog, retryMs: 100 });
    next.start();
    await waitFor(() => next.isLeader, { what: 'the next leader' });
    await next.stop();
  });

  it('with SMTP_URL, sends the queued mail from MAIL_FROM with links under PUBLIC_BASE_URL, and stops on close', async () => {
    const mailbox = await startMailbox();
    try {
      const settings = parseSettings(workerSettingsSchema, {
        ...serviceUrls(),
        DATABASE_URL: database.url,
        CBR_BASE_URL: 'http://127.0.0.1:9',
        BINANCE_BASE_URL: 'http://127.0.0.1:9',
        SMTP_URL: mailbox.url,
        MAIL_FROM: 'Ratewire Compose <compose@ratewire.example>',
        PUBLIC_BASE_URL: 'https://compose.ratewire.example',
      });
      const worker = composeWorker({ settings, log: testLog, db: database.db, nats, redis });
      expect(worker.mail).not.toBeNull();
      const email = `compose-${randomUUID()}@mail.test`;
      await insertUserWithConfirmation(database.db, { email, name: null, passwordHash: 'x' });
      const mail = await mailbox.waitFor((m) => m.envelope.to.includes(email), { timeoutMs: 15_000 });
      expect(mail.from).toEqual({ name: 'Ratewire Compose', address: 'compose@ratewire.example' });
      expect(mail.text).toMatch(/https:\/\/compose\.ratewire\.example\/account\/confirm\?token=[\w-]{43}/);
      await worker.close();
    } finally {
      await mailbox.close();
    }
  });
});
