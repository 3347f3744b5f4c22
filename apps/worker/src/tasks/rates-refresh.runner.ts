// The rates-refresh task, run by the feed leader only. The api queues a `tasks` row and
// publishes tasks.rates-refresh.requested; the leader also sweeps the table (on becoming leader
// and periodically) so a request published while no leader listened is not lost. A task left
// `running` by a leader that died is taken over by the next one.
import { REDIS_NOTIFICATIONS, SUBJECTS, notificationMessage, taskEvent, type TaskEvent } from '@ratewire/contracts';
import { claimTask, finishTask, listUnfinishedTasks, type Database } from '@ratewire/db';
import { errorMessage, type Logger, type NatsConnection, type RedisClient } from '@ratewire/runtime';

import type { FeedPoller } from '../feeds/feed-poller.ts';

export const RATES_REFRESH_KIND = 'rates-refresh';

export interface RatesRefreshDeps {
  db: Database;
  nats: NatsConnection;
  redis: RedisClient;
  log: Logger;
  pollers: FeedPoller[];
  /** Table sweep while leading (default 5 s). */
  sweepMs?: number;
  /** Subject prefix, `tasks.rates-refresh` (tests give their own). */
  subject?: string;
  /** Redis channel, `notifications` (tests give their own). */
  channel?: string;
}

export class RatesRefreshRunner {
  private readonly deps: RatesRefreshDeps;
  private active = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private again = false;
  private sub: ReturnType<NatsConnection['subscribe']> | undefined;

  constructor(deps: RatesRefreshDeps) {
    this.deps = deps;
  }

  private get subject(): string {
    return this.deps.subject ?? SUBJECTS.tasksRatesRefresh;
  }

  /** Becomes active (this replica leads): listen, and sweep for queued or orphaned tasks now. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.sub = this.deps.nats.subscribe(`${this.subject}.requested`, {
      callback: (err) => {
        // the payload only says "look now"; the tasks table is the truth
        if (!err) this.kick();
      },
    });
    this.kick(true);
  }

  /** Stops listening; a task being run finishes (its pollers are stopped by their own owner). */
  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    this.sub?.unsubscribe();
    this.sub = undefined;
    await this.current;
  }

  private kick(takeOverRunning = false): void {
    if (!this.active) return;
    if (this.current) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.current = this.sweep(takeOverRunning)
      .catch((err: unknown) => this.deps.log.warn({ err: errorMessage(err) }, 'rates-refresh sweep failed'))
      .finally(() => {
        this.current = undefined;
        if (!this.active) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = setTimeout(() => this.kick(), this.deps.sweepMs ?? 5000);
        }
      });
  }

  private async sweep(takeOverRunning: boolean): Promise<void> {
    const tasks = await listUnfinishedTasks(this.deps.db, RATES_REFRESH_KIND);
    for (const task of tasks) {
      if (!this.active) return;
      if (task.status === 'running' && !takeOverRunning) continue;
      const claimed = await claimTask(this.deps.db, task.id, { orRunning: takeOverRunning });
      if (claimed) await this.run(claimed.id);
    }
  }

  private async run(taskId: string): Promise<void> {
    const { log, pollers } = this.deps;
    await this.announce({
      task_id: taskId,
      status: 'running',
      detail: `polling ${pollers.map((p) => p.source).join(', ')}`,
    });
    // pollNow joins a poll already in flight instead of starting another
    const outcomes = await Promise.all(pollers.map(async (p) => ({ source: p.source, outcome: await p.pollNow() })));
    const failed = outcomes.filter((o) => !o.outcome.ok);
    const detail = outcomes
      .map(({ source, outcome }) => `${source}: ${outcome.ok ? outcome.summary : `failed: ${outcome.error}`}`)
      .join('; ');
    const status = failed.length ? 'failed' : 'done';
    const finished = await finishTask(this.deps.db, taskId, status, detail);
    if (!finished) {
      log.warn({ taskId }, 'rates-refresh task was no longer running when it finished');
      return;
    }
    log.info({ taskId, status }, `rates-refresh ${status}: ${detail}`);
    await this.announce({ task_id: taskId, status, detail });
  }

  /** Progress to Redis `notifications` and NATS tasks.rates-refresh.<status>; never throws. */
  private async announce(event: TaskEvent): Promise<void> {
    const { nats, redis, log } = this.deps;
    try {
      const payload = taskEvent.parse(event);
      nats.publish(`${this.subject}.${payload.status}`, JSON.stringify(payload));
      const note = notificationMessage.parse(payload);
      await redis.publish(this.deps.channel ?? REDIS_NOTIFICATIONS, JSON.stringify(note));
    } catch (err) {
      log.warn({ err: errorMessage(err), task: event.task_id }, 'rates-refresh progress not published');
    }
  }
}
