// Admin tasks (kind 'rates-refresh'): the api queues them, the worker's leader runs them.
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
