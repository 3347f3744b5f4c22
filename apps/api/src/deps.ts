import type { ApiSettings } from '@ratewire/contracts';
import type { Database, Pool } from '@ratewire/db';
import type { Logger, NatsConnection, RedisClient } from '@ratewire/runtime';

/** Everything the api needs from outside, built in main.ts (or by a test). */
export interface ApiDeps {
  settings: ApiSettings;
  log: Logger;
  pool: Pool;
  db: Database;
  redis: RedisClient;
  nats: NatsConnection;
  /** Prefix of the api's Redis keys (login counters, shared response cache); default `rw:`. Tests pass their own. */
  redisPrefix?: string;
}
