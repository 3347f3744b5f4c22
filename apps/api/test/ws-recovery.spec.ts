// Redis and NATS restarting under a live /ws: the gateway and the notifier recover by themselves.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { wsRedis } from '@ratewire/contracts';
import type { NatsConnection, RedisClient } from '@ratewire/runtime';
import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';

import {
  WsClient,
  natsClient,
  redisClient,
  startNotifier,
  startPrivateNats,
  startPrivateRedis,
  startWsApi,
  type PrivateServer,
  type WsApi,
} from './ws-harness.ts';

let database: TestDatabase;
let redisServer: PrivateServer;
let natsServer: PrivateServer;
let api: WsApi;
let notifier: Awaited<ReturnType<typeof startNotifier>>;
let nc: NatsConnection;
let redis: RedisClient;

const price = (symbol: string, value: string) =>
  JSON.stringify({ ts: new Date().toISOString(), changed: [{ symbol, price: value, previous: null }] });
const prices = (c: WsClient, channel: string) => c.events(channel).map((f) => (f.data as { price: string }).price);

beforeAll(async () => {
  [database, redisServer, natsServer] = await Promise.all([
    createTestDatabase(),
    startPrivateRedis(),
    startPrivateNats(),
  ]);
  notifier = await startNotifier(redisServer.url, natsServer.url);
  api = await startWsApi(database, redisServer.url, natsServer.url);
  nc = await natsClient(natsServer.url);
  redis = redisClient(redisServer.url);
});

afterAll(async () => {
  await api?.close();
  await notifier?.stop();
  await nc?.drain().catch(() => {});
  redis?.disconnect();
  await redisServer?.close();
  await natsServer?.close();
  await database?.drop();
});

describe('/ws when Redis or NATS restarts', () => {
  it('keeps sockets open through a Redis restart and delivers what was published meanwhile, once', async () => {
    const channel = 'rates.binance:RECUSDT';
    const c = await WsClient.open(api.wsUrl);
    await c.subscribe(channel);
    nc.publish('rates.binance.updated', price('RECUSDT', '1'));
    await c.until(() => prices(c, channel).length === 1, 15_000, 'first frame');

    await redisServer.stop();
    // published while Redis is down: the notifier holds it and emits it once Redis is back
    nc.publish('rates.binance.updated', price('RECUSDT', '2'));
    await nc.flush();
    // a socket subscribing during the outage is answered once Redis is back
    const late = await WsClient.open(api.wsUrl);
    late.send({ op: 'subscribe', channel: 'tasks' });
    await redisServer.start();

    await c.until(() => prices(c, channel).length >= 2, 30_000, 'the frame published during the outage');
    nc.publish('rates.binance.updated', price('RECUSDT', '3'));
    await c.until(() => prices(c, channel).length >= 3, 15_000, 'a frame after the restart');
    await c.barrier();
    expect(prices(c, channel)).toEqual(['1', '2', '3']);
    expect(c.ws.readyState).toBe(c.ws.OPEN);

    await late.waitFor((f) => f.type === 'subscribed' && f.channel === 'tasks', 0, 30_000);
    const task = randomUUID();
    // the notifier's own subscription to `notifications` comes back on its own: retry until it has
    await waitFor(
      () => {
        if (late.events('tasks').length) return true;
        void redis.publish('notifications', JSON.stringify({ task_id: task, status: 'done' })).catch(() => {});
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'a task frame after the restart' },
    );
    expect(late.events('tasks')[0]).toMatchObject({ event: 'task.progress', data: { task_id: task } });
    expect(notifier.proc.child.exitCode).toBeNull();
    c.close();
    late.close();
  });

  it('delivers a frame emitted again under a new id once (a retried emit after Redis lost its dedupe key)', async () => {
    const channel = 'rates.binance:TWICEUSDT';
    const c = await WsClient.open(api.wsUrl);
    await c.subscribe(channel);
    // what the notifier's emit writes: the frame's head, the history id, then event, data and stamp
    const ts = new Date().toISOString();
    const tail = (value: string) =>
      wsRedis.frameTail('rates.binance.updated', { symbol: 'TWICEUSDT', price: value, previous: null }, ts);
    const emit = async (value: string) => {
      const id = await redis.xadd(wsRedis.streamKey(channel), '*', wsRedis.tailField, tail(value));
      await redis.publish(wsRedis.pubsubChannel(channel), wsRedis.frameHead(channel) + String(id) + tail(value));
    };
    await emit('5');
    await emit('5');
    await emit('6');
    await c.until(() => prices(c, channel).length >= 2, 15_000, 'two frames');
    await c.barrier();
    expect(prices(c, channel)).toEqual(['5', '6']);
    c.close();
  });

  it('keeps bridging after a NATS restart', async () => {
    const channel = 'rates.binance:NATSUSDT';
    const c = await WsClient.open(api.wsUrl);
    await c.subscribe(channel);
    await natsServer.stop();
    await natsServer.start();
    // both the notifier and this test's publisher reconnect on their own; publish until one gets through
    let n = 0;
    await waitFor(
      () => {
        if (prices(c, channel).length) return true;
        nc.publish('rates.binance.updated', price('NATSUSDT', String(++n)));
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'a frame after the NATS restart' },
    );
    const from = prices(c, channel).length;
    for (let i = 1; i <= 20; i++) nc.publish('rates.binance.updated', price('NATSUSDT', `1000.${i}`));
    await c.until(() => prices(c, channel).length >= from + 20, 15_000, '20 frames');
    await c.barrier();
    const got = prices(c, channel);
    expect(got.slice(from)).toEqual(Array.from({ length: 20 }, (_, i) => `1000.${i + 1}`));
    expect(new Set(got).size).toBe(got.length);
    expect(notifier.proc.child.exitCode).toBeNull();
    c.close();
  });
});
