// The outbox relay against a real Postgres (a database of this file's own) and a JetStream of its own
// (the stream name is fixed, and this file stops the server to make an outage).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import { createTestDatabase, sleep, waitFor, type TestDatabase } from '@ratewire/testkit';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import type { JetStreamManager } from 'nats';

import { decodeJobSubmit } from '../src/jobs.messages.ts';
import { JOBS_STREAM } from '../src/jobs.stream.ts';
import { OutboxRelay } from '../src/outbox.relay.ts';
import { submitRows, unpublishedRows } from './outbox-rows.ts';

let database: TestDatabase;
let server: PrivateServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let relay: OutboxRelay;
const logLines: string[] = [];
const log = createLogger('outbox-relay-test', 'info', { write: (line: string) => void logLines.push(line) });

const submit = (n: number) => submitRows(database.db, n);
const unpublished = () => unpublishedRows(database.db);

const streamMessages = async () => (await jsm.streams.info(JOBS_STREAM)).state.messages;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startPrivateNats();
  nc = await createNats([server.url], log, 'outbox-relay-test');
  jsm = await nc.jetstreamManager();
  // a sweep far away: only notify() makes these rounds happen
  relay = new OutboxRelay({ db: database.db, nats: nc, log, sweepMs: 60_000, publishTimeoutMs: 1000 });
  relay.start();
});

afterAll(async () => {
  await relay?.close();
  await nc?.drain().catch(() => {});
  await server?.close();
  await database?.drop();
});

describe('OutboxRelay', () => {
  it('publishes notified rows to the jobs stream with the job id as Nats-Msg-Id, and marks them', async () => {
    const ids = await submit(3);
    relay.notify();
    await waitFor(async () => (await unpublished()) === 0, { what: 'the rows marked published' });
    expect(await streamMessages()).toBe(3);
    for (let seq = 1; seq <= 3; seq++) {
      const msg = await jsm.streams.getMessage(JOBS_STREAM, { seq });
      const decoded = decodeJobSubmit(msg.data);
      expect(decoded.ok && decoded.value.job_id).toBe(ids[seq - 1]);
      expect(msg.header.get('Nats-Msg-Id')).toBe(ids[seq - 1]);
    }
  });

  it('publishes a row again when it was not marked, and the stream drops the copy', async () => {
    await database.db.updateTable('outbox').set({ published_at: null }).execute();
    relay.notify();
    await waitFor(async () => (await unpublished()) === 0, { what: 'the rows marked again' });
    expect(await streamMessages()).toBe(3);
  });

  it('backs off while NATS is down and publishes what was left once it is back', async () => {
    await server.stop();
    await submit(2);
    relay.notify();
    await waitFor(() => logLines.some((l) => l.includes('"msg":"outbox relay round failed"')), {
      what: 'a failed round logged',
    });
    expect(await unpublished()).toBe(2);
    await server.start();
    await waitFor(async () => (await unpublished()) === 0, { timeoutMs: 20_000, what: 'the rows published' });
    expect(await streamMessages()).toBe(5);
    expect(logLines.some((l) => l.includes('"msg":"outbox relay publishing again"'))).toBe(true);
  });

  it('publishes nothing after close()', async () => {
    await relay.close();
    await submit(1);
    relay.notify();
    await sleep(300);
    expect(await unpublished()).toBe(1);
    expect(await streamMessages()).toBe(5);
  });
});
