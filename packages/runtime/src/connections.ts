import { readFileSync } from 'node:fs';

import { Redis, type RedisOptions } from 'ioredis';
import { connect, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { Logger } from 'pino';

import { withTimeout } from './shutdown.ts';

export type { NatsConnection };
export { Redis };

/** What a Redis connection is made from (the app's settings, or just a URL in tests and tools). */
export interface RedisConnectionSettings {
  /** redis://[user:password@]host:port, rediss:// for TLS. */
  REDIS_URL: string;
  REDIS_TLS_CA_FILE?: string | undefined;
}

/** What a NATS connection is made from. */
export interface NatsConnectionSettings {
  /** nats://[user:password@]host:port or nats://token@host:port; tls:// asks for TLS. */
  NATS_URL: string[];
  NATS_CREDS_FILE?: string | undefined;
  NATS_NKEY_SEED_FILE?: string | undefined;
  NATS_TLS_CA_FILE?: string | undefined;
  NATS_TLS_CERT_FILE?: string | undefined;
  NATS_TLS_KEY_FILE?: string | undefined;
}

/** A URL as it may be logged: its password (or a lone token) replaced by ***. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    else if (u.username && u.protocol !== 'redis:' && u.protocol !== 'rediss:') u.username = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** A connection refused because of a setting (credentials, TLS files); the message names the key. */
export class ConnectionSettingError extends Error {
  override readonly name = 'ConnectionSettingError';
}

/** A setting naming a file that cannot be read: the error names the key, never the contents. */
function readSettingFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConnectionSettingError(`${key}: cannot read ${path} (${code})`);
  }
}

/** A Redis error said so that an operator knows which setting to change. */
export function describeRedisError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/^NOAUTH\b/.test(message)) {
    return `Redis wants a user and password: put them in REDIS_URL (redis://user:password@host:port); ${message}`;
  }
  if (/^WRONGPASS\b/.test(message)) return `Redis refused the user and password in REDIS_URL; ${message}`;
  if (/^NOPERM\b/.test(message)) return `the Redis user in REDIS_URL is not allowed this; ${message}`;
  return message;
}

/** A Redis client that reconnects forever and logs state changes instead of throwing them. */
export function createRedis(
  connection: string | RedisConnectionSettings,
  log: Logger,
  name: string,
  options: RedisOptions = {},
): Redis {
  const settings = typeof connection === 'string' ? { REDIS_URL: connection } : connection;
  const tls: RedisOptions = settings.REDIS_TLS_CA_FILE
    ? { tls: { ca: readSettingFile('REDIS_TLS_CA_FILE', settings.REDIS_TLS_CA_FILE) } }
    : {};
  // the URL's user and password (and rediss:// for TLS) are ioredis's own: AUTH on every (re)connect
  const redis = new Redis(settings.REDIS_URL, {
    connectionName: name,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    reconnectOnError: () => true,
    ...tls,
    ...options,
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    const message = describeRedisError(err);
    if (message !== lastError)
      log.warn({ err: message, conn: name, redis: maskUrl(settings.REDIS_URL) }, 'redis error');
    lastError = message;
  });
  redis.on('ready', () => {
    if (lastError) log.info({ conn: name }, 'redis reconnected');
    lastError = '';
  });
  return redis;
}

const decoded = (part: string) => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

interface NatsTarget {
  servers: string[];
  auth: Pick<ConnectionOptions, 'user' | 'pass' | 'token'>;
  tls: boolean;
}

/** Server addresses without credentials (the client does not read them from URLs) and the credentials apart. */
function natsTarget(urls: string[]): NatsTarget {
  let auth: NatsTarget['auth'] = {};
  let tls = false;
  const servers = urls.map((url) => {
    const u = new URL(url);
    const user = decoded(u.username);
    const pass = decoded(u.password);
    if (pass) auth = { user, pass };
    else if (user) auth = { token: user };
    if (u.protocol === 'tls:') tls = true;
    return `${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || '4222'}`;
  });
  return { servers, auth, tls };
}

/** A NATS connect error said with the setting to change; no credential is ever part of it. */
function describeNatsError(
  err: unknown,
  settings: NatsConnectionSettings,
  target: NatsTarget,
): { message: string; setting: boolean } {
  const code = (err as { code?: string }).code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'AUTHORIZATION_VIOLATION' || code === 'AUTHENTICATION_EXPIRED' || /authori[sz]ation/i.test(message)) {
    const fix = settings.NATS_CREDS_FILE
      ? 'check the credentials file in NATS_CREDS_FILE'
      : settings.NATS_NKEY_SEED_FILE
        ? 'check the nkey seed in NATS_NKEY_SEED_FILE'
        : target.auth.user || target.auth.token
          ? 'check the user and password (or token) in NATS_URL'
          : 'the server wants credentials: put them in NATS_URL (nats://user:password@host:port), ' +
            'or set NATS_NKEY_SEED_FILE or NATS_CREDS_FILE';
    return { message: `NATS refused the connection (${message}): ${fix}`, setting: true };
  }
  if (code === 'SERVER_OPT_NA' && /tls/i.test(message)) {
    const fix = 'use a tls:// URL in NATS_URL or set NATS_TLS_CA_FILE';
    return { message: `the NATS server requires TLS: ${fix} (${message})`, setting: true };
  }
  if (/certificate|self.signed|CERT_|tls/i.test(`${code} ${message}`)) {
    const fix = 'check NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE';
    return { message: `TLS to NATS failed (${message}): ${fix}`, setting: true };
  }
  return { message: `cannot connect to NATS at ${target.servers.join(', ')} (NATS_URL): ${message}`, setting: false };
}

/**
 * A NATS connection that waits for the server at boot and then reconnects forever. Credentials come
 * from the URLs (user:password or a token), NATS_NKEY_SEED_FILE or NATS_CREDS_FILE; TLS from a
 * tls:// URL or the NATS_TLS_* files. A refused login is not retried: it throws a
 * ConnectionSettingError naming the setting.
 */
export async function createNats(
  connection: string[] | NatsConnectionSettings,
  log: Logger,
  name: string,
): Promise<NatsConnection> {
  const settings = Array.isArray(connection) ? { NATS_URL: connection } : connection;
  const target = natsTarget(settings.NATS_URL);
  const options: ConnectionOptions = {
    servers: target.servers,
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    pingInterval: 10_000,
    ...target.auth,
  };
  if (settings.NATS_CREDS_FILE) {
    options.authenticator = credsAuthenticator(readSettingFile('NATS_CREDS_FILE', settings.NATS_CREDS_FILE));
  } else if (settings.NATS_NKEY_SEED_FILE) {
    const seed = readSettingFile('NATS_NKEY_SEED_FILE', settings.NATS_NKEY_SEED_FILE).toString('utf8').trim();
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  const { NATS_TLS_CA_FILE: caFile, NATS_TLS_CERT_FILE: certFile, NATS_TLS_KEY_FILE: keyFile } = settings;
  if (target.tls || caFile || certFile) {
    for (const [key, path] of [
      ['NATS_TLS_CA_FILE', caFile],
      ['NATS_TLS_CERT_FILE', certFile],
      ['NATS_TLS_KEY_FILE', keyFile],
    ] as const) {
      if (path) readSettingFile(key, path);
    }
    options.tls = { ...(caFile ? { caFile } : {}), ...(certFile && keyFile ? { certFile, keyFile } : {}) };
  }
  let nc: NatsConnection;
  try {
    nc = await connect(options);
  } catch (err) {
    const { message, setting } = describeNatsError(err, settings, target);
    log.error({ err: message, conn: name, servers: target.servers }, 'nats connection refused');
    throw setting ? new ConnectionSettingError(message) : new Error(message, { cause: err });
  }
  log.debug({ conn: name, servers: target.servers }, 'nats connected');
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

export const redisCheck = (redis: Redis) =>
  timed(() =>
    redis.ping().catch((err: unknown) => {
      throw new Error(describeRedisError(err));
    }),
  );
export const natsCheck = (nc: NatsConnection) =>
  timed(async () => {
    if (nc.isClosed()) throw new Error('connection closed');
    await nc.flush();
  });
