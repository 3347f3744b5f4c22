// worker process: feed pollers, exchange jobs, callback delivery, retention.
import { workerSettingsSchema } from '@ratewire/contracts';
import { createDb, createPool, ping } from '@ratewire/db';
import {
  Shutdown,
  createLogger,
  createNats,
  createRedis,
  exitOnSettingError,
  loadSettings,
  natsCheck,
  redisCheck,
  startHealthServer,
  timed,
} from '@ratewire/runtime';

import { composeWorker } from './compose.ts';

const settings = loadSettings('worker', workerSettingsSchema);
const log = createLogger('worker', settings.LOG_LEVEL);
const shutdown = new Shutdown(log);
shutdown.installSignalHandlers();

const pool = createPool(settings.DATABASE_URL, { max: 10, applicationName: 'ratewire-worker' });
const db = createDb(pool);
shutdown.add('postgres', 'pool', () => db.destroy());
const redis = createRedis(settings, log, 'worker');
shutdown.add('redis', 'client', async () => {
  await redis.quit();
});
const nats = await createNats(settings, log, 'ratewire-worker').catch(exitOnSettingError('worker'));
shutdown.add('nats', 'drain', () => nats.drain());

composeWorker({ settings, log, db, nats, redis }, shutdown);

const health = await startHealthServer(
  settings.HEALTH_PORT,
  {
    postgres: () => timed(() => ping(pool)),
    redis: () => redisCheck(redis),
    nats: () => natsCheck(nats),
  },
  settings.HEALTH_HOST,
);
shutdown.add('accepting', 'health', () => new Promise<void>((r) => health.close(() => r())));
log.info({ health: health.address() }, 'worker started');
