import { Redis, type RedisOptions } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import type { Logger } from 'pino';

import { withTimeout } from './shutdown.ts';

export type { NatsConnection };
export { Redis };

/** A Redis client that reconnects forever and logs state changes instead of throwing them. */
export function createRedis(url: string, log: Logger, name: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    reconnectOnError: () => true,
    ...options,
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) log.warn({ err: err.message, conn: name }, 'redis error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) log.info({ conn: name }, 'redis reconnected');
    lastError = '';
  });
  return redis;
}

/** A NATS connection that waits for the server at boot and then reconnects forever. */
export async function createNats(servers: string[], log: Logger, name: string): Promise<NatsConnection> {
  const nc = await connect({
    servers,
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    pingInterval: 10_000,
  });
  void (async () => {
    for await (const s of nc.status()) {
      const type = String(s.type);
      if (type === 'disconnect' || type === 'reconnect' || type === 'error') {
        log.info(
          { nats: type, data: typeof s.data === 'object' ? JSON.stringify(s.data) : String(s.data) },
          'nats status',
        );
      }
    }
  })();
  return nc;
}

export async function timed(check: () => Promise<unknown>, timeoutMs = 1000) {
  const started = performance.now();
  try {
    await withTimeout(check(), timeoutMs, 'check');
    return { ok: true, latency_ms: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export const redisCheck = (redis: Redis) => timed(() => redis.ping());
export const natsCheck = (nc: NatsConnection) =>
  timed(async () => {
    if (nc.isClosed()) throw new Error('connection closed');
    await nc.flush();
  });
