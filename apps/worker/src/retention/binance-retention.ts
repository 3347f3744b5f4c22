// Trims binance_price_history to the retention window, on a schedule, in small batches that
// touch the history table only (the latest-price table is never locked by it); the same schedule
// prunes finished mail and expired link tokens and sessions (accounts-retention.ts).
import { deleteBinanceHistoryBatch, type Database } from '@ratewire/db';
import { errorMessage, type Logger } from '@ratewire/runtime';

import { runAccountsRetention } from './accounts-retention.ts';

export interface RetentionOptions {
  db: Database;
  log: Logger;
  retentionDays: number;
  /** Between runs (default 15 min). */
  everyMs?: number;
  batchSize?: number;
  /** Pause between batches so the poller's writes keep flowing (default 50 ms). */
  pauseMs?: number;
}

/** Deletes everything older than the window; returns how many rows went. */
export async function runBinanceRetention(
  opts: RetentionOptions,
  now = new Date(),
  shouldStop: () => boolean = () => false,
): Promise<number> {
  const cutoff = new Date(now.getTime() - opts.retentionDays * 86_400_000);
  const batch = opts.batchSize ?? 5000;
  let total = 0;
  for (;;) {
    const n = await deleteBinanceHistoryBatch(opts.db, cutoff, batch);
    total += n;
    if (n < batch || shouldStop()) break;
    await new Promise((r) => setTimeout(r, opts.pauseMs ?? 50));
  }
  return total;
}

export class RetentionSchedule {
  private readonly opts: RetentionOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private active = false;

  constructor(opts: RetentionOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (!this.active) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        this.schedule(this.opts.everyMs ?? 15 * 60_000);
      });
    }, ms);
  }

  private async runOnce(): Promise<void> {
    try {
      const deleted = await runBinanceRetention(this.opts, new Date(), () => !this.active);
      if (deleted) this.opts.log.info({ deleted, days: this.opts.retentionDays }, 'binance history trimmed');
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'binance history retention failed');
    }
    try {
      const pruned = await runAccountsRetention(this.opts.db);
      if (pruned.mail || pruned.linkTokens || pruned.sessions) {
        this.opts.log.info(
          { mail: pruned.mail, link_tokens: pruned.linkTokens, sessions: pruned.sessions },
          'finished mail, expired link tokens and sessions pruned',
        );
      }
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'accounts retention failed');
    }
  }
}
