// Admin tasks (rates refresh): queued over REST, run by the worker's leader.
import { z } from 'zod';

import { taskStatus } from './events.schemas.ts';
import { text } from './text.schemas.ts';

export const taskAccepted = z.object({ task_id: z.string().uuid(), status: taskStatus }).meta({ id: 'TaskAccepted' });

export const taskIdParams = z.object({ id: text().uuid({ message: 'expected a task id (UUID)' }) });

export const taskSchema = z
  .object({
    id: z.string().uuid(),
    kind: z.string(),
    status: taskStatus,
    detail: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'Task' });

export type TaskDto = z.infer<typeof taskSchema>;
