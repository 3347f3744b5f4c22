// /ws tasks:<task_id> end to end: task messages an outside worker (Celery, say) publishes on Redis
// `notifications` as they are reach whoever subscribes to tasks:<task_id>, through a notifier
// process and an api replica over a Redis and a NATS of this file's own.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WS_TASK_CHANNEL_MESSAGE } from '@ratewire/contracts';
import { sessionToken } from './harness.ts';
import { startWsStack, type WsStack } from './ws-harness.ts';

let stack: WsStack;
const open = (query = '') => stack.open(undefined, query);
/** As a Celery worker (or `redis-cli PUBLISH notifications '…'`) would: the text as it is. */
const publish = (message: unknown) =>
  stack.redis.publish('notifications', typeof message === 'string' ? message : JSON.stringify(message));

beforeAll(async () => {
  stack = await startWsStack();
});
afterAll(() => stack?.close());

describe('/ws tasks:<task_id> (outside task messages)', () => {
  it('delivers a Celery task’s messages to an anonymous client on tasks:celery-abc-123, normalised, in order', async () => {
    const channel = 'tasks:celery-abc-123';
    const c = await open();
    expect(await c.subscribe(channel)).toEqual({ type: 'subscribed', channel });
    const all = await open();
    await all.subscribe('tasks');

    await publish({ task_id: 'celery-abc-123', status: 'PENDING' });
    await publish({ task_id: 'celery-abc-123', status: 'PROGRESS', meta: { current: 3, total: 10 } });
    await publish('{"task_id": "celery-abc-123", "status": "in progress", "progress": "0.5"}');
    await publish({
      task_id: 'celery-abc-123',
      status: 'SUCCESS',
      result: { rows: 34 },
      traceback: null,
      children: [],
      date_done: '2026-11-24T10:00:00.123456+00:00',
    });
    await c.until(() => c.events(channel).length >= 4, 15_000, '4 task frames');
    const frames = c.events(channel);
    expect(frames.map((f) => f.event)).toEqual(['task.progress', 'task.progress', 'task.progress', 'task.progress']);
    expect(frames.map((f) => f.data)).toEqual([
      { task_id: 'celery-abc-123', status: 'queued', status_text: 'PENDING' },
      {
        task_id: 'celery-abc-123',
        status: 'running',
        status_text: 'PROGRESS',
        progress: 0.3,
        meta: { current: 3, total: 10 },
      },
      { task_id: 'celery-abc-123', status: 'running', status_text: 'in progress', progress: 0.5 },
      {
        task_id: 'celery-abc-123',
        status: 'done',
        status_text: 'SUCCESS',
        result: { rows: 34 },
        date_done: '2026-11-24T10:00:00.123456+00:00',
      },
    ]);
    // outside tasks are not broadcast on tasks
    await all.barrier();
    expect(all.events('tasks')).toEqual([]);

    // a client that comes back with since gets what it missed from the channel's history
    const again = await open();
    await again.subscribe(channel, String(frames[1]!.id));
    await again.until(() => again.events(channel).length >= 2, 15_000, 'the replayed frames');
    await again.barrier();
    expect(again.events(channel).map((f) => f.id)).toEqual([frames[2]!.id, frames[3]!.id]);
  });

  it('lets anyone who knows the id follow it, signed in or not, and refuses a malformed task id clearly', async () => {
    const [user] = await stack.database.db
      .insertInto('users')
      .values([{ email: `tasks-${randomUUID()}@example.com`, password_hash: 'x' }])
      .returning(['id'])
      .execute();
    const token = await sessionToken(stack.database.db, user!.id, stack.apis[0]!.deps.settings);
    const signedIn = await open(`?token=${token}`);
    await signedIn.waitFor((f) => f.type === 'authenticated');
    const anonymous = await open();
    const longest = `tasks:${'A'.repeat(200)}`;
    for (const c of [signedIn, anonymous]) {
      for (const channel of ['tasks:App.Tasks:import_rates.42', longest, 'tasks:1']) {
        expect(await c.subscribe(channel)).toEqual({ type: 'subscribed', channel });
      }
    }
    for (const channel of ['tasks:', 'tasks:a b', `tasks:${'A'.repeat(201)}`, 'tasks:tâche', 'tasks:a/b']) {
      expect(await anonymous.subscribe(channel)).toEqual({
        type: 'error',
        code: 'unknown_channel',
        message: WS_TASK_CHANNEL_MESSAGE,
      });
    }
    await publish({ task_id: 'A'.repeat(200), status: 'STARTED' });
    for (const c of [signedIn, anonymous]) {
      const frame = await c.waitFor((f) => f.type === 'event' && f.channel === longest);
      expect(frame.data).toEqual({ task_id: 'A'.repeat(200), status: 'running', status_text: 'STARTED' });
    }
  });

  it('drops invalid task messages (the reason logged) and still delivers the valid one after them', async () => {
    const channel = 'tasks:celery-bad-1';
    const c = await open();
    await c.subscribe(channel);
    await publish({ task_id: 'celery-bad-1', status: 'running', progress: 1.5 });
    await publish({ task_id: 'celery-bad-1', status: 42 });
    await publish({ task_id: 'celery bad 1', status: 'done' });
    await publish('"celery-bad-1"');
    await publish({ task_id: 'celery-bad-1', status: 'FAILURE', result: { exc_type: 'KeyError', exc_message: ['x'] } });
    const frame = await c.waitFor((f) => f.type === 'event' && f.channel === channel);
    expect(frame.data).toEqual({
      task_id: 'celery-bad-1',
      status: 'failed',
      status_text: 'FAILURE',
      detail: 'KeyError: x',
      result: { exc_type: 'KeyError', exc_message: ['x'] },
    });
    await c.barrier();
    expect(c.events(channel)).toHaveLength(1);
    await stack.notifier.proc.waitForLine(/"reason":"progress: [^"]+","msg":"invalid message dropped"/);
    await stack.notifier.proc.waitForLine(
      /"reason":"task_id: expected a task id[^"]*","msg":"invalid message dropped"/,
    );
    expect(stack.notifier.proc.child.exitCode).toBeNull();
  });

  it('sends our own task progress to tasks as before and to tasks:<task_id> too', async () => {
    const task = randomUUID();
    const all = await open();
    await all.subscribe('tasks');
    const one = await open();
    await one.subscribe(`tasks:${task}`);
    await publish({ task_id: task, status: 'done', detail: 'cbr: 3 rates' });
    const broadcast = await all.waitFor((f) => f.type === 'event' && f.channel === 'tasks');
    expect(broadcast).toMatchObject({
      event: 'task.progress',
      data: { task_id: task, status: 'done', detail: 'cbr: 3 rates' },
    });
    expect(broadcast.data).not.toHaveProperty('status_text');
    const followed = await one.waitFor((f) => f.type === 'event' && f.channel === `tasks:${task}`);
    expect(followed).toMatchObject({
      event: 'task.progress',
      data: { task_id: task, status: 'done', status_text: 'done', detail: 'cbr: 3 rates' },
    });
  });
});
