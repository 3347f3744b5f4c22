// api process: settings → connections → HTTP server; SIGTERM stops it in the fixed order.
import { apiSettingsSchema } from '@ratewire/contracts';
import { connectPostgres } from '@ratewire/db';
import { bootProcess, connectNats, connectRedis } from '@ratewire/runtime';

import { ensureAdmin } from './auth/auth.service.ts';
import { composeApi } from './compose.ts';

const proc = bootProcess('api', apiSettingsSchema);
const { settings, log, shutdown } = proc;
const { pool, db } = connectPostgres(proc, { max: 20, applicationName: 'ratewire-api' });
const redis = connectRedis(proc, 'api');
const nats = await connectNats(proc, 'ratewire-api');

await ensureAdmin(db, settings, log);
const api = composeApi({ settings, log, pool, db, redis, nats }, shutdown);
const url = await api.listen(settings.PORT);
log.info({ url, docs: `${url}/docs`, ws: `${url.replace('http', 'ws')}/ws` }, 'api listening');
