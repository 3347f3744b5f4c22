// NATS_STREAM_REPLICAS on a three-node JetStream cluster of this file's own: the jobs stream and
// consumer are created with three copies, and a stream and consumer created with one are scaled up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import { waitFor } from '@ratewire/testkit';
import { startPrivateNatsCluster, type PrivateNatsCluster } from '@ratewire/testkit/private-servers';
import type { JetStreamManager } from 'nats';

import { JOBS_CONSUMER, JOBS_STREAM, ensureJobsConsumer } from '../src/jobs.stream.ts';

let cluster: PrivateNatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
const lines: string[] = [];
const log = createLogger('jobs-stream-cluster-test', 'info', { write: (line: string) => void lines.push(line) });

beforeAll(async () => {
  cluster = await startPrivateNatsCluster({ nodes: 3 });
  nc = await createNats(cluster.urls, log, 'jobs-stream-cluster-test');
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await nc?.drain().catch(() => {});
  await cluster?.close();
});

const deleteStream = () => jsm.streams.delete(JOBS_STREAM).catch(() => false);
/** The stream's or consumer's copies as the cluster reports them: its leader and its peers. */
const copies = (info: { cluster?: { leader?: string; replicas?: unknown[] } }) =>
  (info.cluster?.leader ? 1 : 0) + (info.cluster?.replicas?.length ?? 0);

describe('NATS_STREAM_REPLICAS on a cluster', () => {
  it('creates the stream and the consumer with three copies', async () => {
    await deleteStream();
    await ensureJobsConsumer(nc, 30_000, { replicas: 3, log });
    const stream = await jsm.streams.info(JOBS_STREAM);
    const consumer = await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER);
    expect(stream.config.num_replicas).toBe(3);
    expect(consumer.config.num_replicas).toBe(3);
    expect(copies(stream)).toBe(3);
    await waitFor(async () => copies(await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER)) === 3, {
      what: 'three copies of the consumer',
    });
  });

  it('scales a stream and a consumer of one copy to three, saying so in the log', async () => {
    await deleteStream();
    await ensureJobsConsumer(nc, 30_000);
    expect((await jsm.streams.info(JOBS_STREAM)).config.num_replicas).toBe(1);
    lines.length = 0;
    await ensureJobsConsumer(nc, 30_000, { replicas: 3, log });
    expect((await jsm.streams.info(JOBS_STREAM)).config.num_replicas).toBe(3);
    expect((await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER)).config.num_replicas).toBe(3);
    await waitFor(async () => copies(await jsm.streams.info(JOBS_STREAM)) === 3, { what: 'three copies' });
    const changed = lines.map((l) => JSON.parse(l) as { msg: string; from?: number; to?: number });
    expect(changed.filter((l) => /replicas changed/.test(l.msg))).toEqual([
      expect.objectContaining({ msg: 'stream replicas changed (NATS_STREAM_REPLICAS)', from: 1, to: 3 }),
      expect.objectContaining({ msg: 'consumer replicas changed (NATS_STREAM_REPLICAS)', from: 1, to: 3 }),
    ]);
  });

  it('refuses more copies than nodes with an error naming the setting', async () => {
    await deleteStream();
    await expect(ensureJobsConsumer(nc, 30_000, { replicas: 5, log })).rejects.toThrow(/^NATS_STREAM_REPLICAS=5: /);
  });
});
