// Wires the Rates capability into the worker process: CBR and Binance pollers, symbol refresh,
// history retention and the rates-refresh task run on the leader only; every replica serves
// past-day CBR fetches. Each part stops with the process (pollers finish the poll in flight).
import type { WorkerSettings } from '@ratewire/contracts';
import type { Logger, NatsConnection, Redis, Shutdown } from '@ratewire/core';
import type { Database } from '@ratewire/db';

import { BinanceClient } from '../binance/binance.client.ts';
import { BinanceService } from '../binance/binance.service.ts';
import { CbrClient } from '../cbr/cbr.client.ts';
import { serveCbrFetchDay } from '../cbr/cbr.fetch-day.ts';
import { pollCbr } from '../cbr/cbr.service.ts';
import { LeaderElector } from '../leadership/leader-elector.ts';
import { RetentionSchedule } from '../retention/binance-retention.ts';
import { RatesRefreshRunner } from '../tasks/rates-refresh.runner.ts';
import { FeedPoller } from './feed-poller.ts';

export interface FeedsDeps {
  settings: WorkerSettings;
  log: Logger;
  db: Database;
  nats: NatsConnection;
  redis: Redis;
  shutdown: Shutdown;
}

export function startFeeds({ settings, log, db, nats, redis, shutdown }: FeedsDeps): { elector: LeaderElector } {
  // 8 s: a past-day fetch must answer within the api's 10 s request timeout
  const cbrDeps = { client: new CbrClient({ baseUrl: settings.CBR_BASE_URL, timeoutMs: 8000 }), db, log, nats };
  const cbrPoller = new FeedPoller({
    source: 'cbr',
    intervalMs: settings.CBR_POLL_INTERVAL_MS,
    db,
    log,
    poll: (signal) => pollCbr(cbrDeps, signal),
  });
  const binance = new BinanceService({
    client: new BinanceClient({ baseUrl: settings.BINANCE_BASE_URL }),
    db,
    log,
    nats,
  });
  const binancePoller = new FeedPoller({
    source: 'binance',
    intervalMs: settings.BINANCE_POLL_INTERVAL_MS,
    db,
    log,
    poll: (signal) => binance.poll(signal),
  });
  const retention = new RetentionSchedule({ db, log, retentionDays: settings.BINANCE_HISTORY_RETENTION_DAYS });
  const tasks = new RatesRefreshRunner({ db, nats, redis, log, pollers: [cbrPoller, binancePoller] });
  const fetchDay = serveCbrFetchDay(cbrDeps);

  const elector = new LeaderElector({ databaseUrl: settings.DATABASE_URL, log });
  elector.onChange((leader) => {
    if (leader) {
      binance.reset();
      cbrPoller.start();
      binancePoller.start();
      retention.start();
      tasks.start();
    } else {
      // the lock is gone: another replica may lead already, so stop at once
      void cbrPoller.stop({ abort: true });
      void binancePoller.stop({ abort: true });
      void retention.stop();
      void tasks.stop();
    }
  });
  elector.start();

  shutdown.add('in-flight', 'feeds', async () => {
    await Promise.all([cbrPoller.stop(), binancePoller.stop(), retention.stop(), tasks.stop(), fetchDay.stop()]);
    await elector.stop();
  });
  return { elector };
}
