// /ws end to end: two api replicas and a notifier process over a Redis and a NATS of this file's own.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { wsRedis } from '@ratewire/contracts';
import { Cluster, type NatsConnection, type RedisClient } from '@ratewire/runtime';
import { waitFor, type TestDatabase } from '@ratewire/testkit';

import { sessionToken } from './harness.ts';
import {
  WsClient,
  idsIncrease,
  startNotifier,
  startWsApi,
  startWsStack,
  type PrivateServer,
  type WsApi,
  type WsStack,
} from './ws-harness.ts';

let database: TestDatabase;
let redisServer: PrivateServer;
let natsServer: PrivateServer;
let apiA: WsApi;
let apiB: WsApi;
let notifier: Awaited<ReturnType<typeof startNotifier>>;
let nc: NatsConnection;
let redis: RedisClient;
let stack: WsStack;

const open = (api: WsApi, query = '', options?: Parameters<typeof WsClient.open>[1]) => stack.open(api, query, options);

const currency = (code: string, rate: string) => ({
  id: 1,
  code,
  name: null,
  nominal: 1,
  rate,
  unit_rate: rate,
  updated_at: new Date().toISOString(),
  source: 'api',
});
const binance = (symbol: string, price: string) => ({
  ts: new Date().toISOString(),
  changed: [{ symbol, price, previous: null }],
});
const publish = (subject: string, payload: unknown) =>
  nc.publish(subject, typeof payload === 'string' ? payload : JSON.stringify(payload));
const notify = (message: unknown) => redis.publish('notifications', JSON.stringify(message));

async function metric(api: WsApi, name: string): Promise<number> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

beforeAll(async () => {
  stack = await startWsStack({
    notifierEnv: { WS_HISTORY_MAX_LEN: '100' },
    apiEnv: [{}, { WS_PING_INTERVAL_MS: '300' }],
  });
  ({ database, redisServer, natsServer, notifier, nc, redis } = stack);
  [apiA, apiB] = stack.apis as [WsApi, WsApi];
});
afterAll(() => stack?.close());

describe('notifier → /ws on two api replicas', () => {
  it('delivers an event published on NATS and one published on Redis notifications to a client on each replica', async () => {
    const a = await open(apiA);
    const b = await open(apiB);
    for (const c of [a, b]) {
      expect(await c.subscribe('currencies')).toMatchObject({ type: 'subscribed', channel: 'currencies' });
      expect(await c.subscribe('tasks')).toMatchObject({ type: 'subscribed', channel: 'tasks' });
    }
    const taskId = randomUUID();
    publish('currencies.created', currency('USD', '80.1234'));
    await notify({ task_id: taskId, status: 'running', progress: 0.5 });

    for (const c of [a, b]) {
      const created = await c.waitFor((f) => f.type === 'event' && f.event === 'currencies.created');
      expect(created).toMatchObject({ channel: 'currencies', data: { code: 'USD', rate: '80.1234' } });
      expect(created.id).toMatch(/^\d+-\d+$/);
      expect(Number.isNaN(Date.parse(String(created.ts)))).toBe(false);
      const progress = await c.waitFor((f) => f.type === 'event' && f.event === 'task.progress');
      expect(progress).toMatchObject({ channel: 'tasks', data: { task_id: taskId, status: 'running', progress: 0.5 } });
    }
    // the same frame (same id) reached both replicas
    const idOf = (c: WsClient) => c.events('currencies').find((f) => f.event === 'currencies.created')!.id;
    expect(idOf(a)).toBe(idOf(b));
  });

  it('forwards a valid inbound currencies.updates to channel currencies as decimal strings and stores nothing', async () => {
    const c = await open(apiA);
    await c.subscribe('currencies');
    publish('currencies.updates', { event: 'rates_update', rates: { USD: 80.0, EUR: 90.25 } });
    const frame = await c.waitFor((f) => f.type === 'event' && f.event === 'currencies.updates');
    expect(frame).toMatchObject({
      channel: 'currencies',
      data: { event: 'rates_update', rates: { USD: '80', EUR: '90.25' } },
    });
    const rows = await database.db.selectFrom('currencies').select('code').execute();
    expect(rows).toEqual([]);
    await notifier.proc.waitForLine(/inbound currency update forwarded/);
  });

  it('drops invalid inbound messages with the reason logged and keeps going', async () => {
    const c = await open(apiA);
    await c.subscribe('currencies');
    await c.subscribe('rates.cbr');
    publish('currencies.updates', { event: 'rates_update', rates: { usd: 'abc' } });
    publish('currencies.updates', 'not json at all {');
    publish('rates.cbr.updated', { date: '2026-13-45', changed: [] });
    publish('currencies.created', { id: 'x' });
    publish('currencies.updates', { event: 'rates_update', rates: { GBP: '101.5' } });
    const ok = await c.waitFor((f) => f.type === 'event' && f.event === 'currencies.updates');
    expect(ok.data).toEqual({ event: 'rates_update', rates: { GBP: '101.5' } });
    await notifier.proc.waitForLine(/"reason":"rates\.usd: [^"]+","msg":"invalid message dropped"/);
    await notifier.proc.waitForLine(/"reason":"not JSON","msg":"invalid message dropped"/);
    await notifier.proc.waitForLine(
      /"source":"rates.cbr.updated","reason":"date: [^"]+","msg":"invalid message dropped"/,
    );
    await c.barrier();
    expect(c.events('rates.cbr')).toEqual([]);
    expect(c.events('currencies').map((f) => f.event)).toEqual(['currencies.updates']);
    expect(notifier.proc.child.exitCode).toBeNull();
  });

  it('sends rates.binance and one frame per changed symbol to rates.binance:<SYMBOL>', async () => {
    const c = await open(apiB);
    await c.subscribe('rates.binance:ETHUSDT');
    await c.subscribe('rates.binance');
    publish('rates.binance.updated', {
      ts: new Date().toISOString(),
      changed: [
        { symbol: 'BTCUSDT', price: '65000.10', previous: '64000' },
        { symbol: 'ETHUSDT', price: '3100.5', previous: null },
      ],
    });
    const sym = await c.waitFor((f) => f.type === 'event' && f.channel === 'rates.binance:ETHUSDT');
    expect(sym).toMatchObject({ event: 'rates.binance.updated', data: { symbol: 'ETHUSDT', price: '3100.5' } });
    const all = await c.waitFor((f) => f.type === 'event' && f.channel === 'rates.binance');
    expect((all.data as { changed: unknown[] }).changed).toHaveLength(2);
  });

  it('replays what a client missed with since: every frame once, in order, while events keep coming', async () => {
    const channel = 'rates.binance:SINCEUSDT';
    const first = await open(apiA);
    await first.subscribe(channel);
    publish('rates.binance.updated', binance('SINCEUSDT', '1'));
    const seen = await first.waitFor((f) => f.type === 'event');
    first.close();
    await first.closed;

    for (let i = 2; i <= 30; i++) publish('rates.binance.updated', binance('SINCEUSDT', String(i)));
    await nc.flush();
    // keep publishing while the client comes back: the replay and the live stream must join exactly
    let next = 31;
    const publisher = setInterval(() => publish('rates.binance.updated', binance('SINCEUSDT', String(next++))), 2);
    const again = await open(apiB);
    await again.subscribe(channel, String(seen.id));
    await again.until(() => again.events(channel).length >= 60, 15_000, '60 frames');
    clearInterval(publisher);
    const last = next - 1;
    await nc.flush();
    await again.until(() => again.events(channel).length >= last - 1, 15_000, `frames up to ${last}`);
    await again.barrier();

    const prices = again.events(channel).map((f) => Number((f.data as { price: string }).price));
    // as text, so a failure shows exactly which frame is missing or repeated
    expect(prices.join(',')).toBe(Array.from({ length: last - 1 }, (_, i) => i + 2).join(','));
    expect(idsIncrease(again.events(channel))).toBe(true);
    expect(again.frames.some((f) => f.type === 'reset')).toBe(false);
  });

  it('sends a reset frame when since is older than the history, then continues live', async () => {
    const c = await open(apiA);
    // channel tasks: 250 notifications overflow the history cap of 100 (trimmed by whole nodes)
    for (let i = 0; i < 250; i++) await notify({ task_id: randomUUID(), status: 'queued' });
    // the notifier has emitted them all (a busy machine may still be at it when the publishes return)
    const added = async () => {
      const info = (await redis.xinfo('STREAM', wsRedis.streamKey('tasks'))) as unknown[];
      return Number(info[info.indexOf('entries-added') + 1]);
    };
    await waitFor(async () => (await added()) >= 250, { what: '250 frames in the tasks history', timeoutMs: 30_000 });
    await c.subscribe('tasks');
    await c.barrier();
    const from = c.frames.length;
    c.send({ op: 'subscribe', channel: 'rates.binance:TRUNCUSDT', since: '1-0' });
    const reset = await c.waitFor((f) => f.type === 'reset', from);
    expect(reset).toEqual({ type: 'reset', channel: 'rates.binance:TRUNCUSDT', reason: 'history_truncated' });

    const d = await open(apiB);
    const fromD = d.frames.length;
    d.send({ op: 'subscribe', channel: 'tasks', since: '1-0' });
    await d.waitFor((f) => f.type === 'reset' && f.channel === 'tasks', fromD);
    await d.barrier();
    const replayed = d.events('tasks');
    expect(replayed.length).toBeGreaterThanOrEqual(100);
    expect(replayed.length).toBeLessThan(250);
    const live = randomUUID();
    await notify({ task_id: live, status: 'done' });
    const frame = await d.waitFor((f) => f.type === 'event' && (f.data as { task_id?: string }).task_id === live);
    expect(frame.event).toBe('task.progress');
  });

  it('emits each frame once with two notifier replicas (NATS queue group, Redis notifications deduped)', async () => {
    const second = await startNotifier(redisServer.url, natsServer.url, { WS_HISTORY_MAX_LEN: '100' });
    try {
      const c = await open(apiA);
      await c.subscribe('rates.binance:DUPUSDT');
      await c.subscribe('tasks');
      const tasks: string[] = Array.from({ length: 20 }, () => randomUUID());
      for (let i = 0; i < 20; i++) {
        publish('rates.binance.updated', binance('DUPUSDT', String(i)));
        await notify({ task_id: tasks[i], status: 'running' });
      }
      await c.until(() => c.events('rates.binance:DUPUSDT').length >= 20, 15_000, '20 symbol frames');
      await c.until(
        () => c.events('tasks').filter((f) => tasks.includes((f.data as { task_id: string }).task_id)).length >= 20,
        15_000,
        '20 task frames',
      );
      // one more round trip through both notifiers, so a late duplicate would have arrived by now
      publish('rates.binance.updated', binance('DUPUSDT', '21'));
      await c.until(() => c.events('rates.binance:DUPUSDT').length >= 21, 15_000, 'marker');
      await c.barrier();
      expect(c.events('rates.binance:DUPUSDT')).toHaveLength(21);
      const taskFrames = c.events('tasks').filter((f) => tasks.includes((f.data as { task_id: string }).task_id));
      expect(taskFrames).toHaveLength(20);
      expect(new Set(taskFrames.map((f) => f.id)).size).toBe(20);
    } finally {
      await second.stop();
    }
  });
});

describe('/ws job channels', () => {
  it('lets the owner and admins follow jobs:<id> and answers forbidden to anyone else', async () => {
    const [owner, other, boss] = await database.db
      .insertInto('users')
      .values([
        { email: `owner-${randomUUID()}@example.com`, password_hash: 'x' },
        { email: `other-${randomUUID()}@example.com`, password_hash: 'x' },
        { email: `admin-${randomUUID()}@example.com`, password_hash: 'x', role: 'admin' },
      ])
      .returning(['id', 'email'])
      .execute();
    const job = await database.db
      .insertInto('exchange_jobs')
      .values({
        user_id: owner!.id,
        request_id: randomUUID(),
        body_hash: 'h',
        request: JSON.stringify({}),
        rate: '75.5',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const settings = apiA.deps.settings;
    const db = database.db;
    const ownerToken = await sessionToken(db, owner!.id, settings);
    const otherToken = await sessionToken(db, other!.id, settings);
    const adminToken = await sessionToken(db, boss!.id, settings);
    const channel = `jobs:${job.id}`;

    const anonymous = await open(apiA);
    expect(await anonymous.subscribe(channel)).toMatchObject({ type: 'error', code: 'forbidden' });

    const intruder = await open(apiA);
    intruder.send({ op: 'auth', token: otherToken });
    expect(await intruder.waitFor((f) => f.type === 'authenticated')).toEqual({
      type: 'authenticated',
      user_id: other!.id,
    });
    expect(await intruder.subscribe(channel)).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await intruder.subscribe(`jobs:${randomUUID()}`)).toMatchObject({ type: 'error', code: 'forbidden' });

    const bad = await open(apiA);
    bad.send({ op: 'auth', token: 'not-a-token' });
    expect(await bad.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'unauthorized' });

    const mine = await open(apiB, `?token=${ownerToken}`);
    await mine.waitFor((f) => f.type === 'authenticated');
    expect(await mine.subscribe(channel)).toEqual({ type: 'subscribed', channel });
    const admin = await open(apiA);
    admin.send({ op: 'auth', token: adminToken });
    expect(await admin.subscribe(channel)).toEqual({ type: 'subscribed', channel });

    publish('jobs.exchange.completed', { job_id: job.id, request_id: 'r1', status: 'done', total_rub: '3775.00' });
    await notify({ job_id: job.id, status: 'running', progress: 0.25 });
    for (const c of [mine, admin]) {
      await c.until(() => c.events(channel).length >= 2, 15_000, 'job frames');
      const events = c
        .events(channel)
        .map((f) => f.event)
        .sort();
      expect(events).toEqual(['job.progress', 'jobs.exchange.completed']);
    }
    await intruder.barrier();
    await anonymous.barrier();
    expect(intruder.events()).toEqual([]);
    expect(anonymous.events(channel)).toEqual([]);
  });
});

describe('/ws protocol', () => {
  it('treats a socket that never subscribed like the Currency-API service’s /ws: currencies and rates.cbr, until it subscribes', async () => {
    const c = await open(apiB);
    publish('rates.cbr.updated', {
      date: '2026-11-24',
      changed: [{ code: 'USD', value: '80.5', nominal: 1, unit_rate: '80.5', previous: null }],
    });
    publish('currencies.deleted', { id: 7, code: 'XAU' });
    await notify({ task_id: randomUUID(), status: 'done' });
    await c.until(() => c.events('rates.cbr').length && c.events('currencies').length, 15_000, 'default frames');
    await c.barrier();
    expect(c.events('tasks')).toEqual([]);

    await c.subscribe('tasks');
    publish('currencies.deleted', { id: 8, code: 'XAG' });
    const task = randomUUID();
    await notify({ task_id: task, status: 'done' });
    await c.waitFor((f) => f.type === 'event' && (f.data as { task_id?: string }).task_id === task);
    // the currencies frame was published before the task one: it would have arrived first
    await c.barrier();
    expect(c.events('currencies').some((f) => (f.data as { id: number }).id === 8)).toBe(false);
  });

  it('answers garbage with error frames and keeps the socket usable', async () => {
    const c = await open(apiA);
    const from = c.frames.length;
    c.send('{not json');
    c.send(JSON.stringify({ op: 'dance' }));
    c.send(JSON.stringify({ op: 'subscribe' }));
    c.send(JSON.stringify([1, 2, 3]));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.send({ op: 'subscribe', channel: 'nope' });
    c.send({ op: 'subscribe', channel: 'rates.binance:btc usdt' });
    c.send({ op: 'subscribe', channel: 'tasks', since: 'yesterday' });
    await c.barrier();
    const errors = c.frames.slice(from).filter((f) => f.type === 'error');
    expect(errors.map((f) => f.code)).toEqual([
      'bad_request',
      'bad_request',
      'bad_request',
      'bad_request',
      'bad_request',
      'unknown_channel',
      'unknown_channel',
      'bad_request',
    ]);
    expect(await c.subscribe('tasks')).toMatchObject({ type: 'subscribed' });
  });

  it('refuses a 101st subscription with too_many', async () => {
    const c = await open(apiA);
    for (let i = 0; i < 100; i++) c.send({ op: 'subscribe', channel: `rates.binance:S${i}USDT` });
    await c.until(() => c.frames.filter((f) => f.type === 'subscribed').length === 100, 15_000, '100 subscribed');
    // spread over more than a second: the flood limit is per second
    await new Promise((r) => setTimeout(r, 1100));
    expect(await c.subscribe('rates.binance:S100USDT')).toMatchObject({ type: 'error', code: 'too_many' });
  });

  it('closes a socket that sends a frame over 64 KB (1009) and one that floods (1008)', async () => {
    const big = await open(apiA);
    big.send(JSON.stringify({ op: 'auth', token: 'x'.repeat(70 * 1024) }));
    expect((await big.closed).code).toBe(1009);

    const flood = await open(apiA);
    for (let i = 0; i < 500; i++) flood.send({ op: 'ping' });
    expect((await flood.closed).code).toBe(1008);

    const fine = await open(apiA);
    await fine.barrier();
  });

  it('keeps one Redis subscription per channel per replica, released with the last socket', async () => {
    const channel = 'rates.binance:REFCNTUSDT';
    // a Redis Cluster's node counts only the subscribers connected to it: the sum over every node
    const numsub = async () => {
      const nodes = redis instanceof Cluster ? redis.nodes('all') : [redis];
      const counts = await Promise.all(
        nodes.map(async (node) => Number(((await node.pubsub('NUMSUB', `ws:${channel}`)) as [string, number])[1])),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    const x = await open(apiA);
    const y = await open(apiA);
    const z = await open(apiB);
    for (const c of [x, y, z]) await c.subscribe(channel);
    expect(await numsub()).toBe(2);
    x.send({ op: 'unsubscribe', channel });
    await x.barrier();
    expect(await numsub()).toBe(2);
    y.close();
    await y.closed;
    await waitFor(async () => (await numsub()) === 1, { what: 'replica A to unsubscribe' });
    z.send({ op: 'unsubscribe', channel });
    await z.barrier();
    await waitFor(async () => (await numsub()) === 0, { what: 'replica B to unsubscribe' });
  });

  it('drops a socket that stops answering pings', async () => {
    const c = await open(apiB, '', { autoPong: false });
    expect((await c.closed).code).toBe(1006);
    const healthy = await open(apiB);
    await new Promise((r) => setTimeout(r, 1000));
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
  });

  it('closes a stalled client with 1013 while a healthy one gets every frame', async () => {
    const channel = 'rates.binance';
    const stalled = await open(apiA);
    const healthy = await open(apiA);
    await stalled.subscribe(channel);
    await healthy.subscribe(channel);
    const before = healthy.events(channel).length;
    stalled.ws.pause();
    const changed = Array.from({ length: 200 }, (_, i) => ({
      symbol: `STALL${i}USDT`,
      price: `${i}.12345678`,
      previous: null,
    }));
    let sent = 0;
    while ((await metric(apiA, 'ws_totals{kind="slow_closes"}')) < 1) {
      for (let i = 0; i < 100; i++) publish('rates.binance.updated', { ts: new Date().toISOString(), changed });
      sent += 100;
      await nc.flush();
      await healthy.until(() => healthy.events(channel).length >= before + sent, 30_000, `${sent} frames`);
      if (sent > 5000) throw new Error('the stalled socket was never closed');
    }
    stalled.ws.resume();
    expect((await stalled.closed).code).toBe(1013);
    await healthy.barrier();
    expect(healthy.events(channel)).toHaveLength(before + sent);
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
  });

  it('closes every socket with 1012 (service restart) when the api stops', async () => {
    const extra = await startWsApi(database, redisServer.url, natsServer.url);
    const c = await WsClient.open(extra.wsUrl);
    await c.subscribe('tasks');
    await extra.close();
    expect(await c.closed).toEqual({ code: 1012, reason: 'service restart' });
    const refused = await fetch(`${extra.url}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const c = new WsClient(`${apiA.wsUrl.replace('/ws', '/nope')}`);
    await expect(c.opened).rejects.toThrow(/404/);
  });
});
