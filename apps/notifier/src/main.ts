// notifier process: NATS subjects and Redis `notifications` → sequenced socket channels.
import { notifierSettingsSchema } from '@ratewire/contracts';
import { bootProcess, connectNats, connectRedis, natsCheck, redisCheck, serveHealth } from '@ratewire/runtime';

import { composeNotifier } from './compose.ts';

const proc = bootProcess('notifier', notifierSettingsSchema);
const { settings, log, shutdown } = proc;
const redis = connectRedis(proc, 'notifier');
const subscriber = connectRedis(proc, 'notifier-sub', 'subscriber');
const nats = await connectNats(proc, 'ratewire-notifier');

await composeNotifier({ settings, log, redis, subscriber, nats }, shutdown);

const health = await serveHealth(proc, {
  redis: () => redisCheck(redis),
  redis_subscriber: () => redisCheck(subscriber),
  nats: () => natsCheck(nats),
});
log.info({ health: health.address() }, 'notifier started');
