// The outbox relay catching up after a NATS outage: rows committed while NATS is down are published
// as soon as the connection is back, not after a round waits out its publish-ack timeout. A server
// of this file's own (it is stopped), and a publish-ack timeout far longer than a catch-up takes,
// so a round that waits for it shows up as a failed round after NATS is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import { createTestDatabase, sleep, waitFor, type TestDatabase } from '@ratewire/testkit';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import type { JetStreamManager } from 'nats';

import { JOBS_STREAM } from '../src/jobs.stream.ts';
import { OutboxRelay } from '../src/outbox.relay.ts';
import { submitRows, unpublishedRows } from './outbox-rows.ts';

const PUBLISH_TIMEOUT_MS = 30_000;

let database: TestDatabase;
let server: PrivateServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let relay: OutboxRelay;
const logLines: string[] = [];
const log = createLogger('outbox-catch-up-test', 'info', { write: (line: string) => void logLines.push(line) });

const submit = (n: number) => submitRows(database.db, n);
const unpublished = () => unpublishedRows(database.db);

/** Rounds that failed for another reason than finding the connection not back yet (a wait for acks). */
const failedRounds = (lines: string[]) =>
  lines.filter((l) => l.includes('"msg":"outbox relay round failed"') && !l.includes('NATS is not connected'));

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startPrivateNats();
  nc = await createNats([server.url], log, 'outbox-catch-up-test');
  jsm = await nc.jetstreamManager();
  // no sweeps: only notify() and the connection coming back start rounds
  relay = new OutboxRelay({ db: database.db, nats: nc, log, sweepMs: 600_000, publishTimeoutMs: PUBLISH_TIMEOUT_MS });
  relay.start();
});

afterAll(async () => {
  await relay?.close();
  await nc?.drain().catch(() => {});
  await server?.close();
  await database?.drop();
});

describe('OutboxRelay after a NATS outage', () => {
  it('publishes the rows committed during the outage once NATS is back, without waiting out an ack timeout', async () => {
    await submit(1);
    relay.notify();
    await waitFor(async () => (await unpublished()) === 0, { what: 'the first row published' });

    await server.stop();
    await waitFor(() => logLines.some((l) => l.includes('"nats":"disconnect"')), { what: 'the client to notice' });
    await submit(200);
    relay.notify();
    // a round runs (or fails) while NATS is down
    await sleep(1000);
    expect(await unpublished()).toBe(200);

    const linesBefore = logLines.length;
    const restarted = performance.now();
    await server.start();
    await waitFor(async () => (await unpublished()) === 0, {
      timeoutMs: 2 * PUBLISH_TIMEOUT_MS,
      intervalMs: 10,
      what: 'the rows published after NATS came back',
    });
    console.log(`[measure] relay catch-up after NATS restart: ${Math.round(performance.now() - restarted)} ms`);

    expect((await jsm.streams.info(JOBS_STREAM)).state.messages).toBe(201);
    // no round after the restart failed on its acks: none waited out the ack timeout
    expect(failedRounds(logLines.slice(linesBefore))).toEqual([]);
  }, 120_000);
});
