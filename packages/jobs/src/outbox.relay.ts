// Outbox relay: carries committed outbox rows to JetStream. Runs in every api process (several
// replicas share the table through `for update skip locked`), so a job accepted by an api is carried
// by that api without another process to deploy. A round claims a batch, publishes it pipelined
// with Nats-Msg-Id = job id, and marks the acknowledged rows in one statement; it wakes on
// an in-process signal after each submit and sweeps periodically for rows other (crashed)
// processes left. A row published but not marked (crash in between) is published again later and
// dropped by the stream's duplicate window. While the NATS connection is down no round claims rows
// (a publish then would be lost, and its round would hold the rows until the ack timeout); when the
// connection is back every loop starts a round at once, so rows committed during an outage are
// carried within moments of NATS returning.
import { claimOutbox, markOutboxPublished, pruneOutboxPublished, type Database } from '@ratewire/db';
import { WakeLoop, errorMessage, type Logger, type NatsConnection } from '@ratewire/runtime';

import { JetStreamBatchPublisher } from './jetstream.publisher.ts';
import { outboxMessage } from './jobs.messages.ts';
import { ensureJobsStream } from './jobs.stream.ts';

export interface OutboxRelayOptions {
  batchSize?: number;
  /** How often to look for rows nobody signalled (other processes, restarts). */
  sweepMs?: number;
  /** How long a round waits for the stream to acknowledge its batch (the connection staying up). */
  publishTimeoutMs?: number;
  /** Published rows are deleted after this long. */
  pruneAfterMs?: number;
  /** Rounds in flight at once (each claims different rows), so new rows need not wait for a slow round. */
  loops?: number;
  /** Copies of the jobs stream (NATS_STREAM_REPLICAS). Default 1. */
  streamReplicas?: number;
}

export interface OutboxRelayDeps extends OutboxRelayOptions {
  db: Database;
  nats: NatsConnection;
  log: Logger;
}

const PRUNE_EVERY_MS = 60_000;

export class OutboxRelay {
  private readonly db: Database;
  private readonly nc: NatsConnection;
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly sweepMs: number;
  private readonly publishTimeoutMs: number;
  private readonly pruneAfterMs: number;
  private readonly streamReplicas: number;
  private readonly loop: WakeLoop;
  private streamReady: Promise<void> | null = null;
  private lastPrune = Date.now();
  private readonly publisher: JetStreamBatchPublisher;

  constructor(deps: OutboxRelayDeps) {
    this.db = deps.db;
    this.nc = deps.nats;
    this.log = deps.log;
    this.batchSize = deps.batchSize ?? 1000;
    this.sweepMs = deps.sweepMs ?? 1000;
    this.publishTimeoutMs = deps.publishTimeoutMs ?? 5000;
    this.pruneAfterMs = deps.pruneAfterMs ?? 3_600_000;
    this.streamReplicas = deps.streamReplicas ?? 1;
    this.publisher = new JetStreamBatchPublisher(this.nc, { onReconnect: () => this.loop.wake() });
    this.loop = new WakeLoop({
      loops: deps.loops ?? 2,
      round: ({ retrying }) => this.round(retrying),
      backoff: { firstMs: 100, maxMs: 2000 },
      onError: (err, retryMs) =>
        this.log.warn({ err: errorMessage(err), retry_ms: retryMs }, 'outbox relay round failed'),
      // one idle loop is enough for one signal; a busy one looks again when its round ends
      notifyWakes: 'one',
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Called after a submit committed: publish now rather than at the next sweep. */
  notify(): void {
    this.loop.notify();
  }

  /** Stops the loops, waiting for the rounds in flight (their rows are published and marked, or left). */
  async close(): Promise<void> {
    await this.loop.close();
    this.publisher.close();
  }

  /** The stream, ensured once per process (retried by the loops until it succeeds). */
  private ensureStream(): Promise<void> {
    this.streamReady ??= ensureJobsStream(this.nc, { replicas: this.streamReplicas, log: this.log }).catch(
      (err: unknown) => {
        this.streamReady = null;
        throw err;
      },
    );
    return this.streamReady;
  }

  /** One round; resolves with how long to sleep: none after a full batch, else until the next sweep. */
  private async round(retrying: boolean): Promise<number> {
    // the publisher wakes the loops when the connection is back
    if (!this.publisher.connected) throw new Error('NATS is not connected; publishing when it is back');
    await this.ensureStream();
    const { published, failed, unanswered, disconnected } = await this.publishBatch();
    if (failed) {
      const why = disconnected
        ? 'the NATS connection dropped'
        : unanswered
          ? `${unanswered} not acknowledged within ${this.publishTimeoutMs} ms`
          : 'refused by the stream';
      throw new Error(`${failed} of ${failed + published} publishes failed: ${why}`);
    }
    if (retrying) this.log.info({ published }, 'outbox relay publishing again');
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await pruneOutboxPublished(this.db, this.pruneAfterMs);
    }
    return published >= this.batchSize ? 0 : this.sweepMs;
  }

  /** One batch: claim, publish pipelined, mark what JetStream acknowledged. */
  private async publishBatch(): Promise<{
    published: number;
    failed: number;
    unanswered: number;
    disconnected: boolean;
  }> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await claimOutbox(trx, this.batchSize);
      if (!rows.length) return { published: 0, failed: 0, unanswered: 0, disconnected: false };
      const outcome = await this.publisher.publishAll(rows.map(outboxMessage), this.publishTimeoutMs);
      const ok = rows.filter((_, i) => outcome.acked[i]).map((r) => r.id);
      await markOutboxPublished(trx, ok);
      const { unanswered, disconnected } = outcome;
      return { published: ok.length, failed: rows.length - ok.length, unanswered, disconnected };
    });
  }
}
