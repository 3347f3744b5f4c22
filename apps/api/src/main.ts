// api process: settings → connections → HTTP server; SIGTERM stops it in the fixed order.
import { apiSettingsSchema } from '@ratewire/contracts';
import { createDb, createPool } from '@ratewire/db';
import { Shutdown, createLogger, createNats, createRedis, exitOnSettingError, loadSettings } from '@ratewire/runtime';

import { ensureAdmin } from './auth/auth.service.ts';
import { composeApi } from './compose.ts';

const settings = loadSettings('api', apiSettingsSchema);
const log = createLogger('api', settings.LOG_LEVEL);
const shutdown = new Shutdown(log);
shutdown.installSignalHandlers();

const pool = createPool(settings.DATABASE_URL, { max: 20, applicationName: 'ratewire-api' });
const db = createDb(pool);
shutdown.add('postgres', 'pool', () => db.destroy());
const redis = createRedis(settings, log, 'api');
shutdown.add('redis', 'client', async () => {
  await redis.quit();
});
const nats = await createNats(settings, log, 'ratewire-api').catch(exitOnSettingError('api'));
shutdown.add('nats', 'drain', () => nats.drain());

await ensureAdmin(db, settings, log);
const api = composeApi({ settings, log, pool, db, redis, nats }, shutdown);
const url = await api.listen(settings.PORT);
log.info({ url, docs: `${url}/docs`, ws: `${url.replace('http', 'ws')}/ws` }, 'api listening');
