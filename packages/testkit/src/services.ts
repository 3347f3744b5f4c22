import { commonSettingsSchema } from '@ratewire/contracts';
import { parseSettings } from '@ratewire/runtime';

/** URLs of the Postgres, Redis and NATS that `npm test` started (or the developer's own). */
export function serviceUrls() {
  const s = parseSettings(commonSettingsSchema, process.env);
  return { DATABASE_URL: s.DATABASE_URL, REDIS_URL: s.REDIS_URL, NATS_URL: s.NATS_URL.join(',') };
}
