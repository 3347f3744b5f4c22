// /ws through Redis Cluster failovers, the way production publishes: NATS event → notifier (a
// process) → Redis (emit script: history stream + PUBLISH) → api gateway (in-process) → sockets.
// While frames keep coming, the master of the channel's slot is failed over by hand (CLUSTER
// FAILOVER), then the promoted node (the one the api's subscriber is connected to) is SIGKILLed.
// A client that never dropped, and one that dropped at each failover and came back with `since`,
// must each have every frame once, in id order. The cluster is this file's own: the project's
// shared one is not to be broken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  WsClient,
  idsIncrease,
  natsClient,
  startNotifier,
  startWsApi,
  type Frame,
  type WsApi,
} from '../../apps/api/test/ws-harness.ts';
import { wsRedis } from '../../packages/contracts/src/ws.schemas.ts';
import type { NatsConnection } from '../../packages/runtime/src/index.ts';
import { createTestDatabase, type TestDatabase } from '../../packages/testkit/src/database.ts';
import {
  startPrivateNats,
  startPrivateRedisCluster,
  type PrivateRedisCluster,
  type PrivateServer,
} from '../../packages/testkit/src/private-servers.ts';

const SYMBOL = 'FAILOVERUSDT';
const CHANNEL = `rates.binance:${SYMBOL}`;
/** A frame every this many ms. */
const INTERVAL_MS = 10;

let cluster: PrivateRedisCluster;
let natsServer: PrivateServer;
let database: TestDatabase;
let notifier: Awaited<ReturnType<typeof startNotifier>>;
let api: WsApi;
let nc: NatsConnection;
const clients: WsClient[] = [];

/** The channel's master now, and the replica a manual failover would promote. */
async function slotNodes() {
  const master = await cluster.masterFor(wsRedis.streamKey(CHANNEL));
  const nodes = await cluster.nodes();
  const masterId = nodes.find((n) => n.port === master)?.id;
  const replica = nodes.find((n) => n.role === 'replica' && !n.failed && n.masterId === masterId);
  if (!replica) throw new Error(`master ${master} has no replica`);
  return { master, replica: replica.port };
}

beforeAll(async () => {
  [cluster, natsServer, database] = await Promise.all([
    startPrivateRedisCluster(),
    startPrivateNats(),
    createTestDatabase(),
  ]);
  // the replica the first failover promotes is named first: the api's subscriber connects to it,
  // so the kill that follows takes the subscriber's node away too
  const { replica } = await slotNodes();
  const ports = [replica, ...cluster.ports.filter((p) => p !== replica)];
  const url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  notifier = await startNotifier(url, natsServer.url);
  api = await startWsApi(database, url, natsServer.url);
  nc = await natsClient(natsServer.url);
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await api?.close();
  await notifier?.stop();
  await nc?.drain();
  await natsServer?.close();
  await cluster?.close();
  await database?.drop();
});

const priceOf = (f: Frame) => Number((f.data as { price: string }).price);

async function open(since?: string): Promise<WsClient> {
  const c = await WsClient.open(api.wsUrl);
  clients.push(c);
  const answer = await c.subscribe(CHANNEL, since);
  expect(answer).toMatchObject({ type: 'subscribed', channel: CHANNEL });
  return c;
}

describe('/ws on a Redis Cluster', () => {
  it('delivers every frame once, in order, through a manual failover and a killed master', async () => {
    const steady = await open();
    const arrivals: number[] = [];
    steady.ws.on('message', () => arrivals.push(performance.now()));

    let sent = 0;
    const publisher = setInterval(() => {
      sent++;
      const event = {
        ts: new Date().toISOString(),
        changed: [{ symbol: SYMBOL, price: String(sent), previous: null }],
      };
      nc.publish('rates.binance.updated', JSON.stringify(event));
    }, INTERVAL_MS);

    // the resuming client: one socket per stretch, each resumed from the last id the previous one got
    const stretches: WsClient[] = [await open()];
    const current = () => stretches[stretches.length - 1]!;
    const receivedSoFar = () => stretches.flatMap((c) => c.events(CHANNEL));
    const dropAndResume = async (during: () => Promise<unknown>) => {
      const gone = current();
      gone.ws.terminate();
      await gone.closed;
      const result = await during();
      const last = receivedSoFar().at(-1);
      stretches.push(await open(last ? String(last.id) : undefined));
      return result;
    };
    const framesLater = (n: number) => {
      const target = steady.events(CHANNEL).length + n;
      return steady.until(() => steady.events(CHANNEL).length >= target, 30_000, `${target} frames`);
    };

    let failoverMs = 0;
    let killMs = 0;
    let failoverWindow: readonly [number, number] = [0, 0];
    let killWindow: readonly [number, number] = [0, 0];
    try {
      await framesLater(100);

      const before = await slotNodes();
      let started = performance.now();
      const swapped = await dropAndResume(() => cluster.failover(before.master));
      failoverMs = performance.now() - started;
      failoverWindow = [started, performance.now()];
      expect(swapped).toEqual({ from: before.master, to: before.replica });
      await framesLater(100);

      const promoted = await cluster.masterFor(wsRedis.streamKey(CHANNEL));
      expect(promoted).toBe(before.replica);
      started = performance.now();
      const killed = await dropAndResume(() => cluster.killMaster(promoted));
      killMs = performance.now() - started;
      killWindow = [started, performance.now()];
      expect(killed).toEqual({ killed: promoted, promoted: before.master });
      await framesLater(100);
    } finally {
      clearInterval(publisher);
    }
    await nc.flush();
    const total = sent;
    await steady.until(() => steady.events(CHANNEL).length >= total, 60_000, `all ${total} frames (steady)`);
    await current().until(() => receivedSoFar().length >= total, 60_000, `all ${total} frames (resumed)`);
    await steady.barrier();
    await current().barrier();

    const expected = Array.from({ length: total }, (_, i) => i + 1).join(',');
    for (const [who, frames] of [
      ['steady', steady.events(CHANNEL)],
      ['resumed', receivedSoFar()],
    ] as const) {
      // each frame once: as text, so a failure shows exactly which one is missing or repeated
      expect([...frames.map(priceOf)].sort((a, b) => a - b).join(','), who).toBe(expected);
      expect(idsIncrease(frames), `${who}: ids in order`).toBe(true);
      const reordered = frames.filter((f, i) => i > 0 && priceOf(f) < priceOf(frames[i - 1]!)).length;
      console.log(
        `[measure] ${who}: ${frames.length} frames received of ${total} sent, ${reordered} after a later-sent one`,
      );
    }
    expect([steady, ...stretches].some((c) => c.frames.some((f) => f.type === 'reset'))).toBe(false);

    const gapIn = ([from, to]: readonly [number, number]) => {
      let gap = 0;
      for (let i = 1; i < arrivals.length; i++) {
        if (arrivals[i]! >= from && arrivals[i - 1]! <= to) gap = Math.max(gap, arrivals[i]! - arrivals[i - 1]!);
      }
      return Math.round(gap);
    };
    console.log(`[measure] frames sent: ${total}, one every ${INTERVAL_MS} ms`);
    console.log(
      `[measure] manual failover took ${Math.round(failoverMs)} ms; longest gap between frames then: ${gapIn(failoverWindow)} ms`,
    );
    console.log(
      `[measure] killed master replaced in ${Math.round(killMs)} ms; longest gap between frames then: ${gapIn(killWindow)} ms`,
    );
  }, 180_000);
});
