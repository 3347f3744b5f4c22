// notifier process: NATS subjects and Redis `notifications` → sequenced socket channels.
import { notifierSettingsSchema } from '@ratewire/contracts';
import {
  Shutdown,
  createLogger,
  createNats,
  createRedis,
  loadSettings,
  natsCheck,
  redisCheck,
  startHealthServer,
} from '@ratewire/core';

const settings = loadSettings('notifier', notifierSettingsSchema);
const log = createLogger('notifier', settings.LOG_LEVEL);
const shutdown = new Shutdown(log);
shutdown.installSignalHandlers();

const redis = createRedis(settings.REDIS_URL, log, 'notifier');
shutdown.add('redis', 'client', async () => {
  await redis.quit();
});
const nats = await createNats(settings.NATS_URL, log, 'ratewire-notifier');
shutdown.add('nats', 'drain', () => nats.drain());

const health = await startHealthServer(settings.HEALTH_PORT, {
  redis: () => redisCheck(redis),
  nats: () => natsCheck(nats),
});
shutdown.add('accepting', 'health', () => new Promise<void>((r) => health.close(() => r())));
log.info({ health: health.address() }, 'notifier started');
