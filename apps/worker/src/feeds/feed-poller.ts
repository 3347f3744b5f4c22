// The poll loop both feeds share: one poll at a time, on an interval while this replica leads;
// after 5xx/timeouts the next poll backs off exponentially with jitter; after 429/418 nothing
// is called until Retry-After has passed. Every outcome lands in feed_status.
import { errorMessage, type Logger } from '@ratewire/runtime';

import { recordFeedFailure, recordFeedSuccess, type Database, type FeedSource } from '@ratewire/db';

import { FeedError } from './feed-http.ts';

export interface PollResult {
  /** One line for logs and task details, e.g. "43 rates for 2024-11-09, 2 changed". */
  summary: string;
  /** The source asked us to slow down without failing (e.g. Binance weight nearly used). */
  notBefore?: Date;
}

export type PollOutcome = { ok: true; summary: string } | { ok: false; error: string };

export interface FeedPollerOptions {
  source: FeedSource;
  intervalMs: number;
  db: Database;
  log: Logger;
  poll: (signal: AbortSignal) => Promise<PollResult>;
  /** Longest wait between polls while failing (default 10 × interval, at most 15 min). */
  maxBackoffMs?: number;
  random?: () => number;
  /** True once the process is shutting down: from then on no poll starts (one in flight finishes). */
  stopping?: () => boolean;
}

/** Delay before the next poll after `failures` consecutive failures: exponential, "equal jitter". */
export function backoffDelay(intervalMs: number, failures: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, intervalMs * 2 ** Math.min(Math.max(failures - 1, 0), 20));
  const base = Math.max(intervalMs, exp);
  return Math.round(base / 2 + (random() * base) / 2);
}

export class FeedPoller {
  readonly source: FeedSource;
  private readonly opts: FeedPollerOptions;
  private readonly maxBackoffMs: number;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<PollOutcome> | undefined;
  private controller: AbortController | undefined;
  private failures = 0;
  private pausedUntil = 0;

  constructor(opts: FeedPollerOptions) {
    this.opts = opts;
    this.source = opts.source;
    this.maxBackoffMs = opts.maxBackoffMs ?? Math.min(10 * opts.intervalMs, 15 * 60_000);
  }

  get active(): boolean {
    return this.running;
  }

  /** Starts polling now and then on the interval (called when this replica becomes leader). */
  start(): void {
    if (this.running || this.opts.stopping?.()) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops scheduling. `abort` also cancels the poll in flight (leadership lost); otherwise it finishes. */
  async stop(options: { abort?: boolean } = {}): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (options.abort) this.controller?.abort();
    await this.inFlight?.catch(() => undefined);
  }

  /** Polls at once, or joins the poll in flight; does not call a source that asked us to wait. */
  pollNow(): Promise<PollOutcome> {
    if (this.inFlight) return this.inFlight;
    if (this.opts.stopping?.()) return Promise.resolve({ ok: false, error: 'shutting down' });
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      return Promise.resolve({
        ok: false,
        error: `paused by the source until ${new Date(this.pausedUntil).toISOString()}`,
      });
    }
    return this.runOnce();
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.tick();
      },
      Math.max(0, delayMs),
    );
  }

  private async tick(): Promise<void> {
    if (!this.running || this.opts.stopping?.()) return;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) return this.schedule(wait);
    await (this.inFlight ?? this.runOnce());
  }

  private runOnce(): Promise<PollOutcome> {
    const controller = new AbortController();
    this.controller = controller;
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.execute(controller.signal).finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
      if (this.controller === controller) this.controller = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private async execute(signal: AbortSignal): Promise<PollOutcome> {
    const { source, intervalMs, db, log } = this.opts;
    const started = Date.now();
    let next = intervalMs;
    let outcome: PollOutcome;
    try {
      const result = await this.opts.poll(signal);
      this.failures = 0;
      if (result.notBefore) {
        this.pausedUntil = result.notBefore.getTime();
        next = Math.max(next, this.pausedUntil - Date.now());
      }
      await recordFeedSuccess(db, source, intervalMs).catch((err: unknown) =>
        log.warn({ feed: source, err: errorMessage(err) }, 'feed status not recorded'),
      );
      log.info({ feed: source, ms: Date.now() - started }, result.summary);
      outcome = { ok: true, summary: result.summary };
    } catch (err) {
      const message = errorMessage(err);
      if (signal.aborted && !this.running) {
        // leadership lost mid-poll: not a feed failure, and nothing was written
        log.info({ feed: source }, 'poll abandoned');
        return { ok: false, error: 'poll abandoned' };
      }
      this.failures += 1;
      let pausedUntil: Date | null = null;
      if (err instanceof FeedError && err.retryAt) {
        pausedUntil = err.retryAt;
        this.pausedUntil = err.retryAt.getTime();
        next = Math.max(this.pausedUntil - Date.now(), 0);
      } else {
        next = backoffDelay(intervalMs, this.failures, this.maxBackoffMs, this.opts.random);
      }
      await recordFeedFailure(db, source, intervalMs, message, { pausedUntil }).catch((e: unknown) =>
        log.warn({ feed: source, err: errorMessage(e) }, 'feed status not recorded'),
      );
      // a bad feed is an operational condition, not a bug of ours: warn, keep the old data
      log.warn(
        {
          feed: source,
          err: message,
          kind: err instanceof FeedError ? err.kind : 'error',
          failures: this.failures,
          nextInMs: next,
        },
        'poll failed; last good data kept',
      );
      outcome = { ok: false, error: message };
    }
    this.schedule(next);
    return outcome;
  }
}
