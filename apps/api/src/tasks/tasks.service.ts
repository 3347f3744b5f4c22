// Admin tasks: a rates refresh is queued in Postgres, then announced on NATS
// (tasks.rates-refresh.requested, for the worker) and Redis `notifications` (channel `tasks`).
import { REDIS_NOTIFICATIONS, SUBJECTS, type TaskDto, type TaskEvent } from '@ratewire/contracts';
import { findTask, queueTask, type Database } from '@ratewire/db';
import type { Logger, NatsConnection, RedisClient } from '@ratewire/runtime';

import { AppError } from '../http/app-error.ts';

export const RATES_REFRESH = 'rates-refresh';

export class TasksService {
  private readonly deps: { db: Database; nats: NatsConnection; redis: RedisClient; log: Logger };

  constructor(deps: { db: Database; nats: NatsConnection; redis: RedisClient; log: Logger }) {
    this.deps = deps;
  }

  async requestRatesRefresh(userId: string | null): Promise<{ task_id: string; status: TaskDto['status'] }> {
    const task = await queueTask(this.deps.db, RATES_REFRESH, userId);
    // a still-queued task is announced again: harmless for the worker (it claims a task once),
    // and it heals an announcement lost between the commit and the publish
    if (task.status === 'queued') {
      const event: TaskEvent = { task_id: task.id, status: 'queued' };
      const text = JSON.stringify(event);
      try {
        this.deps.nats.publish(`${SUBJECTS.tasksRatesRefresh}.requested`, text);
      } catch (err) {
        this.deps.log.error({ err, task_id: task.id }, 'could not publish the task request');
      }
      this.deps.redis.publish(REDIS_NOTIFICATIONS, text).catch((err: unknown) => {
        this.deps.log.warn({ err, task_id: task.id }, 'could not publish the task notification');
      });
    }
    return { task_id: task.id, status: task.status };
  }

  async get(id: string): Promise<TaskDto> {
    const row = await findTask(this.deps.db, id);
    if (!row) throw new AppError(404, 'task_not_found', `no task with id ${id}`);
    return {
      id: row.id,
      kind: row.kind,
      status: row.status,
      detail: row.detail,
      created_at: row.created_at.toISOString(),
      started_at: row.started_at?.toISOString() ?? null,
      finished_at: row.finished_at?.toISOString() ?? null,
    };
  }
}
