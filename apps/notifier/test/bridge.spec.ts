// The bridge in-process over a Redis and a NATS of this file's own.
import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { wsRedis } from '@ratewire/contracts';
import { createLogger, createNats, createRedis, type NatsConnection, type RedisClient } from '@ratewire/runtime';
import { sleep, waitFor } from '@ratewire/testkit';

import type { Bridge } from '../src/bridge.ts';
import { composeNotifier } from '../src/compose.ts';
import { startFileRedis, startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

const log = createLogger('notifier-test', process.env.TEST_LOG_LEVEL ?? 'silent');
let redisServer: PrivateServer;
let natsServer: PrivateServer;
let redis: RedisClient;
let nc: NatsConnection;
const stops: (() => Promise<void>)[] = [];

async function bridge(settings = { WS_HISTORY_MAX_LEN: 1000, WS_HISTORY_MAX_AGE_MS: 120_000 }): Promise<Bridge> {
  const r = createRedis(redisServer.url, log, 'bridge');
  const sub = createRedis(redisServer.url, log, 'bridge-sub');
  const n = await createNats([natsServer.url], log, 'bridge');
  const notifier = await composeNotifier({ settings, log, redis: r, subscriber: sub, nats: n });
  stops.push(async () => {
    await notifier.close();
    await n.drain();
    r.disconnect();
    sub.disconnect();
  });
  return notifier.bridge;
}

/** Every frame published on ws:<channel> from now on. */
async function listen(channel: string) {
  const sub = createRedis(redisServer.url, log, 'listen');
  const frames: string[] = [];
  sub.on('message', (_c: string, m: string) => frames.push(m));
  await new Promise((r) => sub.once('ready', r));
  await sub.subscribe(`ws:${channel}`);
  stops.push(() => Promise.resolve(sub.disconnect()));
  return frames;
}

const stream = async (channel: string) => redis.xrange(wsRedis.streamKey(channel), '-', '+');

beforeAll(async () => {
  // the file's own redis-server (in the redis-cluster project: the project's cluster)
  [redisServer, natsServer] = await Promise.all([startFileRedis(), startPrivateNats()]);
  redis = createRedis(redisServer.url, log, 'test');
  nc = await createNats([natsServer.url], log, 'test');
});

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

afterAll(async () => {
  await nc?.drain();
  redis?.disconnect();
  await redisServer?.close();
  await natsServer?.close();
});

describe('notifier bridge', () => {
  it('appends each frame to the channel history and publishes it with the history id', async () => {
    const b = await bridge();
    const published = await listen('currencies');
    nc.publish('currencies.deleted', JSON.stringify({ id: 3, code: 'CHF' }));
    await waitFor(() => published.length === 1, { what: 'a published frame' });
    const entries = await stream('currencies');
    expect(entries).toHaveLength(1);
    const [id, fields] = entries[0]!;
    const frame = JSON.parse(published[0]!);
    expect(frame).toMatchObject({
      type: 'event',
      channel: 'currencies',
      id,
      event: 'currencies.deleted',
      data: { id: 3, code: 'CHF' },
    });
    // history holds the frame's tail: head + id + tail is byte for byte the published frame
    expect(`{"type":"event","channel":"currencies","id":"${id}${fields[1]}`).toBe(published[0]);
    expect(b.stats()).toMatchObject({ received: 1, emitted: 1, invalid: 0 });
  });

  it('drops invalid messages and counts them', async () => {
    const b = await bridge();
    const before = (await stream('rates.cbr')).length;
    nc.publish('rates.cbr.updated', 'garbage');
    nc.publish('rates.cbr.updated', JSON.stringify({ date: 'yesterday', changed: [] }));
    await redis.publish('notifications', '{"job_id":"x"}');
    await waitFor(() => b.stats().invalid === 3, { what: '3 invalid messages' });
    expect((await stream('rates.cbr')).length).toBe(before);
    expect(b.stats().emitted).toBe(0);
  });

  it('frames an outside task message on tasks:<task_id>, in its history, and drops invalid ones', async () => {
    const b = await bridge();
    const id = `celery-${randomUUID().slice(0, 8)}`;
    const channel = `tasks:${id}`;
    const published = await listen(channel);
    const tasksBefore = (await stream('tasks')).length;
    await redis.publish('notifications', JSON.stringify({ task_id: id, status: 'PENDING' }));
    await redis.publish(
      'notifications',
      JSON.stringify({ task_id: id, status: 'PROGRESS', meta: { current: 3, total: 10 } }),
    );
    await redis.publish('notifications', '{"task_id":"bad id","status":"done"}');
    await redis.publish('notifications', JSON.stringify({ task_id: id, status: 'running', progress: 7 }));
    await redis.publish('notifications', JSON.stringify({ task_id: id, status: 'SUCCESS', result: 42 }));
    await waitFor(() => published.length === 3, { what: '3 task frames' });
    await waitFor(() => b.stats().invalid === 2, { what: '2 invalid messages' });
    const entries = await stream(channel);
    expect(entries.map(([entryId]) => entryId)).toEqual(published.map((f) => (JSON.parse(f) as { id: string }).id));
    // history holds each frame's tail: head + id + tail is the published frame, byte for byte
    entries.forEach(([entryId, fields], i) => {
      expect(`{"type":"event","channel":"${channel}","id":"${entryId}${fields[1]}`).toBe(published[i]);
    });
    expect(published.map((f) => JSON.parse(f) as { event: string; data: unknown })).toMatchObject([
      { event: 'task.progress', data: { task_id: id, status: 'queued', status_text: 'PENDING' } },
      { event: 'task.progress', data: { task_id: id, status: 'running', status_text: 'PROGRESS', progress: 0.3 } },
      { event: 'task.progress', data: { task_id: id, status: 'done', status_text: 'SUCCESS', result: 42 } },
    ]);
    // the history expires when idle, as every channel's does
    expect(await redis.pttl(wsRedis.streamKey(channel))).toBeGreaterThan(0);
    // outside tasks stay off channel tasks
    expect(await stream('tasks')).toHaveLength(tasksBefore);
    expect(b.stats()).toMatchObject({ received: 5, emitted: 3, invalid: 2 });
  });

  it('with two replicas, emits every NATS message and every Redis notification once', async () => {
    const [a, b] = await Promise.all([bridge(), bridge()]);
    const channel = 'rates.binance:PAIRUSDT';
    const before = (await stream('tasks')).length;
    for (let i = 0; i < 50; i++) {
      nc.publish(
        'rates.binance.updated',
        JSON.stringify({
          ts: new Date().toISOString(),
          changed: [{ symbol: 'PAIRUSDT', price: `${i}`, previous: null }],
        }),
      );
      await redis.publish('notifications', JSON.stringify({ task_id: randomUUID(), status: 'running' }));
    }
    await waitFor(async () => (await stream(channel)).length === 50 && (await stream('tasks')).length === before + 50, {
      what: '50 frames per channel',
    });
    await sleep(200);
    expect(await stream(channel)).toHaveLength(50);
    expect(await stream('tasks')).toHaveLength(before + 50);
    // both replicas took part and the notification duplicates were caught
    expect(a.stats().received).toBeGreaterThan(0);
    expect(b.stats().received).toBeGreaterThan(0);
    expect(a.stats().duplicates + b.stats().duplicates).toBeGreaterThanOrEqual(50);
  });

  it('trims history entries older than the age cap and expires an idle history', async () => {
    await bridge({ WS_HISTORY_MAX_LEN: 10, WS_HISTORY_MAX_AGE_MS: 1000 });
    const channel = 'rates.binance:AGEUSDT';
    const send = (price: string) =>
      nc.publish(
        'rates.binance.updated',
        JSON.stringify({ ts: new Date().toISOString(), changed: [{ symbol: 'AGEUSDT', price, previous: null }] }),
      );
    send('1');
    await waitFor(async () => (await stream(channel)).length === 1, { what: 'first entry' });
    await sleep(1100);
    send('2');
    await waitFor(async () => (await stream(channel)).some(([, f]) => f[1]!.includes('"price":"2"')), {
      what: 'second entry',
    });
    const entries = await stream(channel);
    expect(
      entries.map(([, f]) => (JSON.parse(`{${f[1]!.slice(2)}`) as { data: { price: string } }).data.price),
    ).toEqual(['2']);
    const ttl = await redis.pttl(wsRedis.streamKey(channel));
    expect(ttl).toBeGreaterThan(0);
  });
});
