import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REDIS_NOTIFICATIONS, taskAccepted, taskEvent, taskSchema } from '@ratewire/contracts';
import { createLogger, createRedis } from '@ratewire/runtime';

import type { TestUser } from './harness.ts';
import { listen, startRestApi, type RestEnv } from './rest-support.ts';

let t: RestEnv;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  t = await startRestApi();
  [admin, user] = await Promise.all([t.user('admin'), t.user()]);
});
afterAll(async () => {
  await t?.close();
});

describe('POST /api/v1/tasks/rates-refresh', () => {
  it('queues a task (admin): 202, NATS tasks.rates-refresh.requested and the Redis notification', async () => {
    const sub = await listen(t.deps.nats, 'tasks.rates-refresh.requested');
    const redis = createRedis(t.deps.settings.REDIS_URL, createLogger('test', 'silent'), 'tasks-test');
    const notes: string[] = [];
    await redis.subscribe(REDIS_NOTIFICATIONS);
    redis.on('message', (_channel: string, text: string) => notes.push(text));
    try {
      const res = await t.request('POST', '/api/v1/tasks/rates-refresh', { headers: admin.auth });
      expect(res.status).toBe(202);
      const { task_id } = taskAccepted.parse(res.body);
      expect(taskEvent.parse((await sub.next).data)).toEqual({ task_id, status: 'queued' });
      const row = await t.database.db.selectFrom('tasks').selectAll().where('id', '=', task_id).executeTakeFirst();
      expect(row).toMatchObject({ kind: 'rates-refresh', status: 'queued', requested_by: admin.id });
      await expect
        .poll(() =>
          notes.map((n) => JSON.parse(n) as unknown).find((n) => (n as { task_id?: string }).task_id === task_id),
        )
        .toEqual({ task_id, status: 'queued' });
    } finally {
      redis.disconnect();
    }
  });

  it('answers the task already queued or running instead of queueing another, even under concurrency', async () => {
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => t.request('POST', '/api/v1/tasks/rates-refresh', { headers: admin.auth })),
    );
    const ids = new Set(replies.map((r) => taskAccepted.parse(r.body).task_id));
    expect(ids.size).toBe(1);
    const active = await t.database.db
      .selectFrom('tasks')
      .select('id')
      .where('status', 'in', ['queued', 'running'])
      .execute();
    expect(active).toHaveLength(1);
    // once it is done, the next request queues a new one
    await t.database.db.updateTable('tasks').set({ status: 'done' }).execute();
    const next = await t.request('POST', '/api/v1/tasks/rates-refresh', { headers: admin.auth });
    expect(ids.has(taskAccepted.parse(next.body).task_id)).toBe(false);
  });

  it('answers 401 anonymous and 403 to a user', async () => {
    expect((await t.request('POST', '/api/v1/tasks/rates-refresh')).status).toBe(401);
    expect((await t.request('POST', '/api/v1/tasks/rates-refresh', { headers: user.auth })).status).toBe(403);
  });
});

describe('GET /api/v1/tasks/{id}', () => {
  it('answers the task to an admin; 401 anonymous, 403 user, 404 unknown, 422 malformed', async () => {
    const { task_id } = taskAccepted.parse(
      (await t.request('POST', '/api/v1/tasks/rates-refresh', { headers: admin.auth })).body,
    );
    const res = await t.request('GET', `/api/v1/tasks/${task_id}`, { headers: admin.auth });
    expect(res.status).toBe(200);
    expect(taskSchema.parse(res.body)).toMatchObject({ id: task_id, kind: 'rates-refresh', status: 'queued' });
    expect((await t.request('GET', `/api/v1/tasks/${task_id}`)).status).toBe(401);
    expect((await t.request('GET', `/api/v1/tasks/${task_id}`, { headers: user.auth })).status).toBe(403);
    const unknown = await t.request('GET', '/api/v1/tasks/00000000-0000-4000-8000-000000000000', {
      headers: admin.auth,
    });
    expect(unknown.status).toBe(404);
    expect((await t.request('GET', '/api/v1/tasks/not-a-uuid', { headers: admin.auth })).status).toBe(422);
  });
});
