// notifier process: NATS subjects and Redis `notifications` → sequenced socket channels.
import { notifierSettingsSchema } from '@ratewire/contracts';
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
} from '@ratewire/runtime';

import { composeNotifier } from './compose.ts';

const settings = loadSettings('notifier', notifierSettingsSchema);
const log = createLogger('notifier', settings.LOG_LEVEL);
const shutdown = new Shutdown(log);
shutdown.installSignalHandlers();

const redis = createRedis(settings, log, 'notifier');
shutdown.add('redis', 'client', async () => {
  await redis.quit();
});
const subscriber = createRedis(settings, log, 'notifier-sub');
shutdown.add('redis', 'subscriber', async () => {
  await subscriber.quit();
});
const nats = await createNats(settings, log, 'ratewire-notifier').catch(exitOnSettingError('notifier'));
shutdown.add('nats', 'drain', () => nats.drain());

await composeNotifier({ settings, log, redis, subscriber, nats }, shutdown);

const health = await startHealthServer(
  settings.HEALTH_PORT,
  {
    redis: () => redisCheck(redis),
    redis_subscriber: () => redisCheck(subscriber),
    nats: () => natsCheck(nats),
  },
  settings.HEALTH_HOST,
);
shutdown.add('accepting', 'health', () => new Promise<void>((r) => health.close(() => r())));
log.info({ health: health.address() }, 'notifier started');
