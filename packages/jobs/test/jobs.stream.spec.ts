// The jobs topology against a real JetStream: a NATS server of this file's own, since the stream and
// consumer names are fixed and other suites use them on the shared server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SUBJECTS } from '@ratewire/contracts';
import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import { RetentionPolicy, nanos, type JetStreamManager } from 'nats';

import {
  JOBS_CONSUMER,
  JOBS_DUPLICATE_WINDOW_MS,
  JOBS_MAX_ACK_PENDING,
  JOBS_STREAM,
  ensureJobsConsumer,
  ensureJobsStream,
} from '../src/jobs.stream.ts';

let server: PrivateServer;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startPrivateNats();
  nc = await createNats([server.url], createLogger('jobs-stream-test', 'silent'), 'jobs-stream-test');
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await nc?.drain().catch(() => {});
  await server?.close();
});

const deleteStream = () => jsm.streams.delete(JOBS_STREAM).catch(() => false);

describe('ensureJobsStream', () => {
  it('creates the work-queue stream on the submit subject with the dedupe window', async () => {
    await deleteStream();
    await ensureJobsStream(nc);
    const { config } = await jsm.streams.info(JOBS_STREAM);
    expect(config.subjects).toEqual([SUBJECTS.jobsSubmit]);
    expect(config.retention).toBe(RetentionPolicy.Workqueue);
    expect(config.duplicate_window).toBe(nanos(JOBS_DUPLICATE_WINDOW_MS));
  });

  it('succeeds for every process racing to create it, leaving one stream', async () => {
    await deleteStream();
    await Promise.all([ensureJobsStream(nc), ensureJobsStream(nc), ensureJobsStream(nc)]);
    const names: string[] = [];
    for await (const s of jsm.streams.list()) names.push(s.config.name);
    expect(names).toEqual([JOBS_STREAM]);
  });

  it('widens an existing stream that lacks the subject or keeps too short a window, keeping its subjects', async () => {
    await deleteStream();
    await jsm.streams.add({
      name: JOBS_STREAM,
      subjects: ['jobs.other'],
      retention: RetentionPolicy.Workqueue,
      duplicate_window: nanos(1000),
    });
    await ensureJobsStream(nc);
    const { config } = await jsm.streams.info(JOBS_STREAM);
    expect([...(config.subjects ?? [])].sort()).toEqual(['jobs.other', SUBJECTS.jobsSubmit].sort());
    expect(config.duplicate_window).toBe(nanos(JOBS_DUPLICATE_WINDOW_MS));
  });

  it('leaves a longer window than its own as it is', async () => {
    await deleteStream();
    const longer = nanos(2 * JOBS_DUPLICATE_WINDOW_MS);
    await jsm.streams.add({
      name: JOBS_STREAM,
      subjects: [SUBJECTS.jobsSubmit],
      retention: RetentionPolicy.Workqueue,
      duplicate_window: longer,
    });
    await ensureJobsStream(nc);
    expect((await jsm.streams.info(JOBS_STREAM)).config.duplicate_window).toBe(longer);
  });
});

describe('NATS_STREAM_REPLICAS on a single server', () => {
  it('creates the stream and the consumer with one replica by default', async () => {
    await deleteStream();
    await ensureJobsConsumer(nc, 30_000);
    expect((await jsm.streams.info(JOBS_STREAM)).config.num_replicas).toBe(1);
    expect((await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER)).config.num_replicas).toBe(1);
  });

  it('refuses to create a stream of 3 replicas with an error naming the setting', async () => {
    await deleteStream();
    await expect(ensureJobsStream(nc, { replicas: 3 })).rejects.toThrow(/^NATS_STREAM_REPLICAS=3: .*replicas/);
  });

  it('keeps an existing stream it cannot scale, logging the refusal under the setting', async () => {
    await deleteStream();
    await ensureJobsConsumer(nc, 30_000);
    const lines: string[] = [];
    const log = createLogger('jobs-stream-test', 'info', { write: (line: string) => void lines.push(line) });
    await ensureJobsConsumer(nc, 30_000, { replicas: 3, log });
    expect((await jsm.streams.info(JOBS_STREAM)).config.num_replicas).toBe(1);
    const refusals = lines.map((l) => JSON.parse(l) as { msg: string; stream?: string; wanted?: number });
    expect(refusals.filter((l) => l.msg.startsWith('NATS_STREAM_REPLICAS:'))).toEqual([
      expect.objectContaining({ stream: JOBS_STREAM, wanted: 3 }),
      expect.objectContaining({ wanted: 3 }),
    ]);
  });
});

describe('ensureJobsConsumer', () => {
  it('creates the stream and the durable consumer on the submit subject', async () => {
    await deleteStream();
    await ensureJobsConsumer(nc, 30_000);
    const { config } = await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER);
    expect(config.durable_name).toBe('exchange-workers');
    expect(config.filter_subject).toBe(SUBJECTS.jobsSubmit);
    expect(config.ack_wait).toBe(nanos(30_000));
    expect(config.max_ack_pending).toBe(JOBS_MAX_ACK_PENDING);
  });

  it('succeeds for replicas racing to create it', async () => {
    await deleteStream();
    await Promise.all([ensureJobsConsumer(nc, 30_000), ensureJobsConsumer(nc, 30_000), ensureJobsConsumer(nc, 30_000)]);
    const names: string[] = [];
    for await (const c of jsm.consumers.list(JOBS_STREAM)) names.push(c.name);
    expect(names).toEqual([JOBS_CONSUMER]);
  });

  it('brings an existing consumer to the ack wait it is given', async () => {
    await ensureJobsConsumer(nc, 45_000);
    expect((await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER)).config.ack_wait).toBe(nanos(45_000));
  });
});
