// The JetStream consumer of exchange jobs: one durable pull consumer shared by every worker replica.
// Messages are buffered as they arrive and processed in batches (whatever has arrived, up to
// BATCH_MAX); a batch is acknowledged only after its results are committed. Events and progress are
// published after the commit.
import { REDIS_NOTIFICATIONS, SUBJECTS, type JobResultEvent, type NotificationMessage } from '@ratewire/contracts';
import type { Database } from '@ratewire/db';
import { JOBS_CONSUMER, JOBS_STREAM, decodeJobSubmit, ensureJobsConsumer } from '@ratewire/jobs';
import { PULL_FAILOVER, errorMessage, type Logger, type NatsConnection, type RedisClient } from '@ratewire/runtime';
import type { ConsumerMessages, JsMsg } from 'nats';

import { processBatch, type FinishedJob, type ProcessorOptions } from './jobs.processor.ts';

const BATCH_MAX = 500;

export interface JobsConsumerOptions extends ProcessorOptions {
  ackWaitMs: number;
  /** Copies of the jobs stream and consumer (NATS_STREAM_REPLICAS). Default 1. */
  streamReplicas?: number;
  /** Batches processed at once by this worker. */
  concurrency?: number;
  /** Told when a batch created pending callbacks. */
  onCallbacks?: () => void;
}

export interface JobsConsumerDeps extends JobsConsumerOptions {
  db: Database;
  nats: NatsConnection;
  redis: RedisClient;
  log: Logger;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class JobsConsumer {
  private readonly db: Database;
  private readonly nc: NatsConnection;
  private readonly redis: RedisClient;
  private readonly log: Logger;
  private readonly options: JobsConsumerOptions;
  private readonly buffer: JsMsg[] = [];
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  private kick: (() => void) | null = null;
  private loops: Promise<void>[] = [];
  private starter: Promise<void> | null = null;

  constructor({ db, nats, redis, log, ...options }: JobsConsumerDeps) {
    this.db = db;
    this.nc = nats;
    this.redis = redis;
    this.log = log;
    this.options = options;
  }

  /** Starts in the background; retries until NATS has the stream and consumer. */
  start(): void {
    this.starter ??= this.begin();
  }

  private async begin(): Promise<void> {
    for (let delay = 250; !this.stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await ensureJobsConsumer(this.nc, this.options.ackWaitMs, {
          replicas: this.options.streamReplicas ?? 1,
          log: this.log,
        });
        const consumer = await this.nc.jetstream().consumers.get(JOBS_STREAM, JOBS_CONSUMER);
        if (this.stopped) return;
        this.messages = await consumer.consume({
          max_messages: 1000,
          // a lost NATS node's pending pulls are noticed within seconds
          ...PULL_FAILOVER,
          callback: (m) => {
            this.buffer.push(m);
            this.kick?.();
          },
        });
        break;
      } catch (err) {
        this.log.warn({ err: errorMessage(err), retry_ms: delay }, 'job consumer not ready');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.stopped) return;
    this.log.info({ consumer: JOBS_CONSUMER }, 'consuming exchange jobs');
    const n = this.options.concurrency ?? 2;
    for (let i = 0; i < n; i++) this.loops.push(this.loop());
  }

  /** Stops pulling, finishes the batches in hand and hands the rest back to JetStream. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => {});
    this.kick?.();
    await this.starter;
    await Promise.all(this.loops);
    for (const m of this.buffer.splice(0)) m.nak();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (!this.buffer.length) {
        await new Promise<void>((resolve) => {
          const previous = this.kick;
          this.kick = () => {
            this.kick = null;
            previous?.();
            resolve();
          };
        });
        continue;
      }
      const batch = this.buffer.splice(0, BATCH_MAX);
      await this.handle(batch);
    }
  }

  private async handle(batch: JsMsg[]): Promise<void> {
    const byId = new Map<string, JsMsg[]>();
    for (const m of batch) {
      const message = decodeJobSubmit(m.data);
      if (!message.ok) {
        this.log.warn({ seq: m.seq, payload: decoder.decode(m.data).slice(0, 200) }, 'invalid job message dropped');
        m.term();
        continue;
      }
      const list = byId.get(message.value.job_id) ?? [];
      list.push(m);
      byId.set(message.value.job_id, list);
    }
    if (!byId.size) return;
    let outcome;
    try {
      outcome = await processBatch(this.db, [...byId.keys()], this.options, (ids) => this.publish(ids, []));
    } catch (err) {
      // nothing committed: let JetStream deliver these again soon (to this or another worker)
      this.log.error({ err: errorMessage(err), jobs: byId.size }, 'job batch failed; redelivering');
      for (const list of byId.values()) for (const m of list) m.nak(1000);
      await new Promise((r) => setTimeout(r, 250));
      return;
    }
    for (const list of byId.values()) for (const m of list) m.ack();
    if (outcome.missing.length) this.log.warn({ jobs: outcome.missing }, 'job messages for unknown jobs acknowledged');
    if (outcome.callbacks) this.options.onCallbacks?.();

    const redelivered = new Set(
      [...byId.entries()].filter(([, list]) => list.some((m) => m.redelivered)).map(([id]) => id),
    );
    // a redelivered job that is already finished may have lost its events with a dead worker: say it again
    const announce = [...outcome.finished, ...outcome.alreadyFinished.filter((j) => redelivered.has(j.id))];
    this.publish([], announce);
  }

  private publish(running: string[], finished: FinishedJob[]): void {
    const pipeline = this.redis.pipeline();
    const note = (m: NotificationMessage) => pipeline.publish(REDIS_NOTIFICATIONS, JSON.stringify(m));
    for (const id of running) note({ job_id: id, status: 'running' });
    for (const job of finished) {
      note({ job_id: job.id, status: job.status });
      const event: JobResultEvent = {
        job_id: job.id,
        request_id: job.request_id,
        status: job.status,
        ...(job.total_rub !== undefined ? { total_rub: job.total_rub } : {}),
        ...(job.error !== undefined ? { error: job.error } : {}),
      };
      try {
        this.nc.publish(
          job.status === 'done' ? SUBJECTS.jobsCompleted : SUBJECTS.jobsFailed,
          encoder.encode(JSON.stringify(event)),
        );
      } catch (err) {
        this.log.warn({ err: errorMessage(err), job_id: job.id }, 'job event not published');
      }
    }
    pipeline.exec().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'job progress not published'));
  }
}
