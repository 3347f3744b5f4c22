// One boot sequence for every process: settings parsed once (a bad value exits 78 naming the key),
// JSON logs named after the app, and the shutdown order with its SIGTERM/SIGINT handlers. Each
// connection made through it registers its own shutdown step in its phase, so a main.ts is only
// "boot, connect, compose".
import type { Server } from 'node:http';

import type { z } from 'zod';

import {
  createNats,
  createRedis,
  type NatsConnection,
  type NatsConnectionSettings,
  type RedisClient,
  type RedisConnectionSettings,
} from './connections.ts';
import { startHealthServer, type Checks, type ReadinessInfo } from './health-server.ts';
import { createLogger, type Logger } from './logger.ts';
import { exitOnSettingError, loadSettings } from './settings.ts';
import { Shutdown } from './shutdown.ts';

/** A booted process: what its connections and its composition root are made from. */
export interface BootedProcess<S> {
  /** The app's name: on every log line, and in the message of a setting that stops it. */
  app: string;
  settings: S;
  log: Logger;
  shutdown: Shutdown;
}

/** Settings, logger and shutdown order of process `app`; SIGTERM/SIGINT run the shutdown from now on. */
export function bootProcess<S extends z.ZodType<{ LOG_LEVEL: string }>>(
  app: string,
  schema: S,
): BootedProcess<z.output<S>> {
  const settings = loadSettings(app, schema);
  const log = createLogger(app, settings.LOG_LEVEL);
  const shutdown = new Shutdown(log);
  shutdown.installSignalHandlers();
  return { app, settings, log, shutdown };
}

/** A Redis connection named `name`, quit in the 'redis' phase as step `step`. */
export function connectRedis(proc: BootedProcess<RedisConnectionSettings>, name: string, step = 'client'): RedisClient {
  const redis = createRedis(proc.settings, proc.log, name);
  proc.shutdown.add('redis', step, async () => {
    await redis.quit();
  });
  return redis;
}

/**
 * The NATS connection named `name`, drained in the 'nats' phase. A connection refused because of a
 * setting (credentials, TLS files) stops the process like a bad setting does (exit 78).
 */
export async function connectNats(proc: BootedProcess<NatsConnectionSettings>, name: string): Promise<NatsConnection> {
  const nats = await createNats(proc.settings, proc.log, name).catch(exitOnSettingError(proc.app));
  proc.shutdown.add('nats', 'drain', () => nats.drain());
  return nats;
}

export interface HealthSettings {
  HEALTH_PORT: number;
  HEALTH_HOST: string;
}

/**
 * The health port (/healthz, /readyz over `checks`, with `info`'s facts) on HEALTH_HOST:HEALTH_PORT,
 * closed in the 'accepting' phase.
 */
export async function serveHealth(
  proc: BootedProcess<HealthSettings>,
  checks: Checks,
  info?: ReadinessInfo,
): Promise<Server> {
  const { HEALTH_PORT, HEALTH_HOST } = proc.settings;
  const health = await startHealthServer(HEALTH_PORT, checks, HEALTH_HOST, info);
  proc.shutdown.add('accepting', 'health', () => new Promise<void>((resolve) => health.close(() => resolve())));
  return health;
}
