// Alerts judged on what the feeds really publish: the worker's composition root leads, polls the
// replay server (Binance prices, then CBR's daily XML), stores the rates and announces the changes;
// the alert-evaluation consumer takes those announcements off JetStream and fires the alerts the new
// rates call for, once each, with the observation that caused it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SUBJECTS, workerSettingsSchema, type AlertTriggeredEvent } from '@ratewire/contracts';
import type { NewAlert } from '@ratewire/db';
import { createNats, createRedis, parseSettings, type NatsConnection, type RedisClient } from '@ratewire/runtime';
import { createTestDatabase, serviceUrls, waitFor, type TestDatabase } from '@ratewire/testkit';
import { insertAlert } from '@ratewire/testkit/alerts';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

import { composeWorker, type WorkerApp } from '../src/compose.ts';
import { seedUser } from './jobs-support.ts';
import { testLog } from './support.ts';

const PRICE_PATH = '/api/v3/ticker/price';
const INFO_PATH = '/api/v3/exchangeInfo';
const CBR_PATH = '/scripts/XML_daily.asp';

let database: TestDatabase;
let natsServer: PrivateServer;
let nats: NatsConnection;
let redis: RedisClient;
let replay: ReplayServer;
let worker: WorkerApp;
let owner: string;
const announced: AlertTriggeredEvent[] = [];
/** What the CBR poll (every second) is answered with. */
let cbrDay = 'cbr/XML_daily_2024-03-28.xml';

const info = {
  timezone: 'UTC',
  rateLimits: [],
  symbols: ['BTCUSDT', 'ETHUSDT'].map((symbol) => ({
    symbol,
    status: 'TRADING',
    baseAsset: symbol.slice(0, 3),
    quoteAsset: 'USDT',
  })),
};
const prices = (btc: string, eth: string) =>
  JSON.stringify([
    { symbol: 'BTCUSDT', price: btc },
    { symbol: 'ETHUSDT', price: eth },
  ]);

beforeAll(async () => {
  [database, natsServer, replay] = await Promise.all([createTestDatabase(), startPrivateNats(), startReplayServer()]);
  nats = await createNats([natsServer.url], testLog, 'worker-alerts-feeds-test');
  redis = createRedis(serviceUrls().REDIS_URL, testLog, 'worker-alerts-feeds-test');
  nats.subscribe(SUBJECTS.alertsTriggered, { callback: (_e, m) => announced.push(m.json<AlertTriggeredEvent>()) });
  owner = await seedUser(database.db);
});
afterAll(async () => {
  await worker?.close();
  await nats?.drain();
  redis?.disconnect();
  await Promise.all([natsServer?.close(), replay?.close(), database?.drop()]);
});

const alert = (over: Partial<NewAlert>) =>
  insertAlert(database.db, owner, { symbol: 'BTCUSDT', level: '65000', ...over });

const eventsOf = (alertId: string) =>
  database.db.selectFrom('alert_events').selectAll().where('alert_id', '=', alertId).execute();

describe('alerts on the feeds', () => {
  it('a Binance poll that crosses a level fires the crossing alert once, with both observations', async () => {
    replay.respond(INFO_PATH, { json: info });
    replay.respond(PRICE_PATH, { body: prices('64000.5', '3000') }, { body: prices('65000', '2999.99') });
    const cross = await alert({ condition_type: 'crosses_above', level: '65000' });
    const below = await alert({ symbol: 'ETHUSDT', condition_type: 'below', level: '3000' });
    const untouched = await alert({ condition_type: 'crosses_below', level: '60000' });

    const settings = parseSettings(workerSettingsSchema, {
      ...serviceUrls(),
      DATABASE_URL: database.url,
      NATS_URL: natsServer.url,
      CBR_BASE_URL: replay.url,
      BINANCE_BASE_URL: replay.url,
      BINANCE_STREAM: 'off',
      CBR_POLL_INTERVAL_MS: '1000',
      BINANCE_POLL_INTERVAL_MS: '1000',
    });
    replay.respond(CBR_PATH, () => ({ fixture: cbrDay }));
    worker = composeWorker({ settings, log: testLog, db: database.db, nats, redis });

    await waitFor(async () => (await eventsOf(cross.id)).length === 1 && (await eventsOf(below.id)).length === 1, {
      timeoutMs: 30_000,
      what: 'the crossing and the below alert fired',
    });
    const [fired] = await eventsOf(cross.id);
    // 64000.5 → 65000: previous < level ≤ current, on the second poll's observation
    expect(fired).toMatchObject({ observed_value: '65000', previous_value: '64000.5', test: false });
    const crossing = await database.db
      .selectFrom('binance_price_history')
      .select('observed_at')
      .where('symbol', '=', 'BTCUSDT')
      .orderBy('observed_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(fired!.observed_at.toISOString()).toBe(crossing.observed_at.toISOString());
    expect(fired!.observation).toBe(`binance:BTCUSDT@${crossing.observed_at.toISOString()}`);
    expect(await eventsOf(untouched.id)).toHaveLength(0);
    await waitFor(() => announced.some((e) => e.alert_id === cross.id), { what: 'the firing announced' });
    expect(announced.find((e) => e.alert_id === cross.id)).toMatchObject({
      type: 'alert.triggered',
      user_id: owner,
      symbol: 'BTCUSDT',
      condition: { type: 'crosses_above', level: '65000' },
      observed: { value: '65000', previous: '64000.5' },
    });
  });

  it('a change message no feed wrote fires nothing: alerts are judged on the stored rates', async () => {
    const level = await alert({ symbol: 'ETHUSDT', condition_type: 'crosses_above', level: '5000' });
    const taken = worker.alerts.handled;
    const forged = { ts: new Date().toISOString(), changed: [{ symbol: 'ETHUSDT', price: '9000', previous: '1' }] };
    nats.publish(SUBJECTS.ratesBinanceUpdated, JSON.stringify(forged));
    nats.publish(SUBJECTS.ratesBinanceUpdated, '{"ts": "soon", "changed": "everything"}');
    const before = announced.length;
    await waitFor(() => worker.alerts.handled >= taken + 2, { what: 'both messages taken' });
    expect(await eventsOf(level.id)).toHaveLength(0);
    expect(announced.length).toBe(before);
  });

  it('a CBR alert is judged when a new effective date is published, on the unit rate', async () => {
    // 2024-03-28 is stored by the first CBR poll (USD 92.5919); the next one publishes 2024-11-09 (97.8335)
    await waitFor(
      async () =>
        (await database.db
          .selectFrom('cbr_rates')
          .select('code')
          .where('date', '=', '2024-03-28')
          .executeTakeFirst()) !== undefined,
      { what: 'the first CBR day stored' },
    );
    const usd = await alert({ source: 'cbr', symbol: 'USD', condition_type: 'crosses_above', level: '95' });
    const pct = await alert({
      source: 'cbr',
      symbol: 'USD',
      condition_type: 'pct_change',
      level: null,
      window_seconds: 86_400,
      threshold_pct: '5',
      direction: 'up',
    });
    cbrDay = 'cbr/XML_daily_2024-11-09.xml';
    await waitFor(async () => (await eventsOf(usd.id)).length === 1 && (await eventsOf(pct.id)).length === 1, {
      timeoutMs: 30_000,
      what: 'the CBR alerts fired',
    });
    const [fired] = await eventsOf(usd.id);
    expect(fired).toMatchObject({ observed_value: '97.8335', previous_value: '92.5919' });
    expect(fired!.observation).toBe('cbr:USD@2024-11-09');
    const [moved] = await eventsOf(pct.id);
    // (97.8335 − 92.5919) / 92.5919 = 5.6610 %: against the rate in force the day before 2024-11-09
    expect(moved).toMatchObject({ previous_value: '92.5919', change_pct: '5.6610' });
  });
});
