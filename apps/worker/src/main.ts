// worker process: feed pollers, exchange jobs, callback delivery, mail delivery, retention.
import { workerSettingsSchema } from '@ratewire/contracts';
import { connectPostgres, ping } from '@ratewire/db';
import { bootProcess, connectNats, connectRedis, natsCheck, redisCheck, serveHealth, timed } from '@ratewire/runtime';

import { composeWorker } from './compose.ts';

const proc = bootProcess('worker', workerSettingsSchema);
const { settings, log, shutdown } = proc;
const { pool, db } = connectPostgres(proc, { max: 10, applicationName: 'ratewire-worker' });
const redis = connectRedis(proc, 'worker');
const nats = await connectNats(proc, 'ratewire-worker');

const worker = composeWorker({ settings, log, db, nats, redis }, shutdown);

const health = await serveHealth(
  proc,
  {
    postgres: () => timed(() => ping(pool)),
    redis: () => redisCheck(redis),
    nats: () => natsCheck(nats),
  },
  () => ({ feeds: { binance: worker.binanceStatus() } }),
);
log.info({ health: health.address() }, 'worker started');
