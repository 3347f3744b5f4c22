// BINANCE_STREAM through the worker's composition root: the leader streams, feed_status and the
// health port's /readyz show the mode, and settings that cannot stream are handled.
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { workerSettingsSchema } from '@ratewire/contracts';
import { getFeedStatus } from '@ratewire/db';
import { ensureJobsStream } from '@ratewire/jobs';
import {
  createNats,
  createRedis,
  parseSettings,
  startHealthServer,
  type NatsConnection,
  type RedisClient,
} from '@ratewire/runtime';
import { createTestDatabase, serviceUrls, waitFor, type TestDatabase } from '@ratewire/testkit';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

import { composeWorker } from '../src/compose.ts';
import { PRICE_PATH, rigSymbols, startStreamServer, type StreamServer } from './binance-stream-support.ts';
import { testLog } from './support.ts';

let database: TestDatabase;
let natsServer: PrivateServer;
let nats: NatsConnection;
let redis: RedisClient;
let replay: ReplayServer;
let server: StreamServer;

beforeAll(async () => {
  [database, natsServer, replay, server] = await Promise.all([
    createTestDatabase(),
    startPrivateNats(),
    startReplayServer(),
    startStreamServer(),
  ]);
  nats = await createNats([natsServer.url], testLog, 'worker-stream-compose-test');
  redis = createRedis(serviceUrls().REDIS_URL, testLog, 'worker-stream-compose-test');
  await ensureJobsStream(nats);
});
afterAll(async () => {
  await nats?.drain();
  redis?.disconnect();
  await Promise.all([natsServer?.close(), replay?.close(), server?.close()]);
  await database?.drop();
});

const settingsWith = (env: Record<string, string>) =>
  parseSettings(workerSettingsSchema, {
    ...serviceUrls(),
    DATABASE_URL: database.url,
    CBR_BASE_URL: 'http://127.0.0.1:9',
    BINANCE_BASE_URL: replay.url,
    ...env,
  });

describe('BINANCE_STREAM settings', () => {
  it('defaults to auto on the stream of Binance itself', () => {
    const s = parseSettings(workerSettingsSchema, {});
    expect([s.BINANCE_STREAM, s.BINANCE_WS_URL]).toEqual(['auto', 'wss://stream.binance.com:9443']);
  });

  it('refuses a value outside off|auto|on and a URL that is not ws/wss, naming the key', () => {
    expect(() => parseSettings(workerSettingsSchema, { BINANCE_STREAM: 'yes' })).toThrow(
      /BINANCE_STREAM.*expected off, auto or on/s,
    );
    expect(() => parseSettings(workerSettingsSchema, { BINANCE_WS_URL: 'https://stream.binance.com' })).toThrow(
      /BINANCE_WS_URL.*WebSocket URL/s,
    );
  });

  it('refuses on when the stream is not the exchange BINANCE_BASE_URL names', () => {
    expect(() =>
      parseSettings(workerSettingsSchema, { BINANCE_STREAM: 'on', BINANCE_BASE_URL: 'http://127.0.0.1:9' }),
    ).toThrow(/BINANCE_WS_URL.*not the same exchange/s);
  });

  it('auto against another REST origin with Binance’s stream polls, and feed_status says so', async () => {
    const worker = composeWorker({ settings: settingsWith({}), log: testLog, db: database.db, nats, redis });
    try {
      expect(worker.binanceStream).toBeNull();
      await waitFor(() => worker.elector.isLeader, { what: 'feed leadership' });
      expect(worker.binanceStatus()).toEqual({ leader: true, setting: 'auto', mode: 'polling' });
      await waitFor(async () => (await getFeedStatus(database.db, 'binance'))?.mode === 'polling', {
        what: 'feed_status polling',
      });
      expect(await getFeedStatus(database.db, 'binance')).toMatchObject({ mode: 'polling', mode_setting: 'auto' });
    } finally {
      await worker.close();
    }
  });
});

describe('composeWorker with BINANCE_STREAM=auto', () => {
  it('the leader streams; feed_status and /readyz show it; close() ends the connection', async () => {
    const [A] = rigSymbols(1) as [string];
    replay.respond(PRICE_PATH, { json: [{ symbol: A, price: '3.0' }] });
    const worker = composeWorker(
      { settings: settingsWith({ BINANCE_WS_URL: server.url }), log: testLog, db: database.db, nats, redis },
      undefined,
      { binanceStream: { silenceMs: 5000 } },
    );
    const health = await startHealthServer(0, {}, '127.0.0.1', () => ({ feeds: { binance: worker.binanceStatus() } }));
    try {
      await waitFor(() => worker.elector.isLeader, { what: 'feed leadership' });
      const conn = await server.waitForConnection(1);
      await waitFor(() => conn.ws.readyState === conn.ws.OPEN, { what: 'the stream connection open' });
      server.tickers(Date.now(), { [A]: '3.0' });
      server.heartbeat(100);
      await waitFor(() => worker.binanceStatus().state === 'live', { what: 'the stream live' });
      await waitFor(async () => (await getFeedStatus(database.db, 'binance'))?.mode === 'stream', {
        what: 'feed_status stream',
      });
      expect(await getFeedStatus(database.db, 'binance')).toMatchObject({ mode: 'stream', mode_setting: 'auto' });

      const { port } = health.address() as AddressInfo;
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as Record<string, unknown>;
      expect(ready).toMatchObject({
        status: 'ok',
        feeds: { binance: { leader: true, setting: 'auto', mode: 'stream', state: 'live', connections: 1 } },
      });

      server.tickers(Date.now() + 1000, { [A]: '3.5' });
      await waitFor(
        async () => {
          const row = await database.db
            .selectFrom('binance_prices')
            .select('price')
            .where('symbol', '=', A)
            .executeTakeFirst();
          return row?.price === '3.5';
        },
        { what: 'the streamed price' },
      );
    } finally {
      server.heartbeat(0);
      await worker.close();
      await new Promise<void>((resolve) => health.close(() => resolve()));
    }
    expect(worker.binanceStatus().mode).toBeNull();
    await waitFor(() => server.open().length === 0, { what: 'the stream connection closed' });
  });
});
