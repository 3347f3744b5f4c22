// Admin tasks (kind 'rates-refresh'): the api queues them, the worker's leader runs them; at most
// one queued or running per kind.
import { sql, type Kysely } from 'kysely';

import type { DB } from '../schema.ts';

export interface TaskRow {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  detail: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const columns = ['id', 'kind', 'status', 'detail', 'created_at', 'started_at', 'finished_at'] as const;

/** Unfinished tasks of a kind, oldest first. */
export async function listUnfinishedTasks(db: Kysely<DB>, kind: string): Promise<TaskRow[]> {
  return db
    .selectFrom('tasks')
    .select(columns)
    .where('kind', '=', kind)
    .where('status', 'in', ['queued', 'running'])
    .orderBy('created_at')
    .$castTo<TaskRow>()
    .execute();
}

/**
 * Marks a task running. A queued task is claimed once; `orRunning` also takes over one left
 * running by a leader that died. Returns undefined when there was nothing to claim.
 */
export async function claimTask(
  db: Kysely<DB>,
  id: string,
  options: { orRunning?: boolean } = {},
): Promise<TaskRow | undefined> {
  return db
    .updateTable('tasks')
    .set({ status: 'running', started_at: sql`now()`, detail: null })
    .where('id', '=', id)
    .where('status', 'in', options.orRunning ? ['queued', 'running'] : ['queued'])
    .returning(columns)
    .$castTo<TaskRow>()
    .executeTakeFirst();
}

export async function finishTask(
  db: Kysely<DB>,
  id: string,
  status: 'done' | 'failed',
  detail: string,
): Promise<TaskRow | undefined> {
  return db
    .updateTable('tasks')
    .set({ status, detail, finished_at: sql`now()` })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returning(columns)
    .$castTo<TaskRow>()
    .executeTakeFirst();
}

/**
 * Queues a task unless one of the kind is queued or running (then that one is returned). The
 * partial unique index decides, so concurrent requests cannot queue two.
 */
export async function queueTask(
  db: Kysely<DB>,
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

export async function findTask(db: Kysely<DB>, id: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').select(columns).where('id', '=', id).$castTo<TaskRow>().executeTakeFirst();
}
