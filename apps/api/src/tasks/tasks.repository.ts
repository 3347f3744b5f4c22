// tasks: admin-requested work (kind 'rates-refresh'); at most one queued/running per kind.
import { sql } from 'kysely';

import type { Database } from '@ratewire/db';

export interface TaskRow {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  detail: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/**
 * Queues a task unless one of the kind is queued or running (then that one is returned). The
 * partial unique index decides, so concurrent requests cannot queue two.
 */
export async function queueTask(
  db: Database,
  kind: string,
  requestedBy: string | null,
): Promise<{ id: string; status: TaskRow['status']; created: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const inserted = await sql<{ id: string }>`
      insert into tasks (kind, status, requested_by) values (${kind}, 'queued', ${requestedBy})
      on conflict (kind) where status in ('queued', 'running') do nothing
      returning id
    `.execute(db);
    if (inserted.rows[0]) return { id: inserted.rows[0].id, status: 'queued', created: true };
    const active = await db
      .selectFrom('tasks')
      .select(['id', 'status'])
      .where('kind', '=', kind)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (active) return { id: active.id, status: active.status, created: false };
    // the active one finished in between: try again
  }
  throw new Error(`could not queue a ${kind} task`);
}

export async function findTask(db: Database, id: string): Promise<TaskRow | undefined> {
  return db
    .selectFrom('tasks')
    .select(['id', 'kind', 'status', 'detail', 'created_at', 'started_at', 'finished_at'])
    .where('id', '=', id)
    .$castTo<TaskRow>()
    .executeTakeFirst();
}
