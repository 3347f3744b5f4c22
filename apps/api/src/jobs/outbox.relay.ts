// Outbox relay: carries committed outbox rows to JetStream. Runs in every api process (several
// replicas share the table through `for update skip locked`), so a job accepted by an api is carried
// by that api without another process to deploy. A round claims a batch, publishes it pipelined
// with Nats-Msg-Id = job id, and marks the acknowledged rows in one statement; it wakes on
// an in-process signal after each submit and sweeps periodically for rows other (crashed)
// processes left. A row published but not marked (crash in between) is published again later and
// dropped by the stream's duplicate window.
import { errorMessage, type Logger, type NatsConnection } from '@ratewire/core';
import { claimOutbox, markOutboxPublished, pruneOutboxPublished, type Database } from '@ratewire/db';
import { ensureJobsStream } from '@ratewire/jobs';

import { JetStreamBatchPublisher } from './jetstream.publisher.ts';

export interface OutboxRelayOptions {
  batchSize?: number;
  /** How often to look for rows nobody signalled (other processes, restarts). */
  sweepMs?: number;
  publishTimeoutMs?: number;
  /** Published rows are deleted after this long. */
  pruneAfterMs?: number;
  /** Rounds in flight at once (each claims different rows), so new rows need not wait for a slow round. */
  loops?: number;
}

const encoder = new TextEncoder();

export class OutboxRelay {
  private readonly db: Database;
  private readonly nc: NatsConnection;
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly sweepMs: number;
  private readonly publishTimeoutMs: number;
  private readonly pruneAfterMs: number;
  private readonly loops: number;
  private stopped = false;
  private signalled = false;
  /** Idle loops, woken by a submit. */
  private readonly waiters = new Set<() => void>();
  /** Loops backing off after a failure, woken only by close(). */
  private readonly backingOff = new Set<() => void>();
  private running: Promise<void>[] = [];
  private streamReady: Promise<void> | null = null;
  private lastPrune = Date.now();
  private readonly publisher: JetStreamBatchPublisher;

  constructor(db: Database, nc: NatsConnection, log: Logger, options: OutboxRelayOptions = {}) {
    this.db = db;
    this.nc = nc;
    this.log = log;
    this.batchSize = options.batchSize ?? 1000;
    this.sweepMs = options.sweepMs ?? 1000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.pruneAfterMs = options.pruneAfterMs ?? 3_600_000;
    this.loops = options.loops ?? 2;
    this.publisher = new JetStreamBatchPublisher(nc);
  }

  start(): void {
    if (this.running.length) return;
    for (let i = 0; i < this.loops; i++) this.running.push(this.run());
  }

  /** Called after a submit committed: publish now rather than at the next sweep. */
  notify(): void {
    this.signalled = true;
    // one idle loop is enough for one signal; a busy one looks again when its round ends
    const [wake] = this.waiters;
    wake?.();
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.waiters, ...this.backingOff]) wake();
    await Promise.all(this.running);
    this.publisher.close();
  }

  /** The stream, ensured once per process (retried by the loops until it succeeds). */
  private ensureStream(): Promise<void> {
    this.streamReady ??= ensureJobsStream(this.nc).catch((err: unknown) => {
      this.streamReady = null;
      throw err;
    });
    return this.streamReady;
  }

  private async run(): Promise<void> {
    let backoffMs = 0;
    while (!this.stopped) {
      let full = false;
      try {
        await this.ensureStream();
        this.signalled = false;
        const { published, failed } = await this.round();
        if (failed) throw new Error(`${failed} of ${failed + published} publishes failed`);
        if (backoffMs) this.log.info({ published }, 'outbox relay publishing again');
        backoffMs = 0;
        full = published >= this.batchSize;
        if (Date.now() - this.lastPrune > 60_000) {
          this.lastPrune = Date.now();
          await pruneOutboxPublished(this.db, this.pruneAfterMs);
        }
      } catch (err) {
        backoffMs = Math.min(Math.max(backoffMs * 2, 100), 2000);
        this.log.warn({ err: errorMessage(err), retry_ms: backoffMs }, 'outbox relay round failed');
        await this.idle(backoffMs, false);
        continue;
      }
      if (!full && !this.signalled) await this.idle(this.sweepMs, true);
    }
  }

  /** One batch: claim, publish pipelined, mark what JetStream acknowledged. */
  private async round(): Promise<{ published: number; failed: number }> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await claimOutbox(trx, this.batchSize);
      if (!rows.length) return { published: 0, failed: 0 };
      const acked = await this.publisher.publishAll(
        rows.map((r) => ({ subject: r.subject, msgId: r.msg_id, data: encoder.encode(JSON.stringify(r.payload)) })),
        this.publishTimeoutMs,
      );
      const ok = rows.filter((_, i) => acked[i]).map((r) => r.id);
      await markOutboxPublished(trx, ok);
      return { published: ok.length, failed: rows.length - ok.length };
    });
  }

  private idle(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // a backoff is not cut short by new submits, only by close()
    const set = wakeable ? this.waiters : this.backingOff;
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }
}
