import { readFileSync } from 'node:fs';

import { isRedisClusterUrl, parseRedisClusterUrl } from '@ratewire/contracts';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { connect, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { Logger } from 'pino';

import { withTimeout } from './shutdown.ts';

export type { NatsConnection };
export { Cluster, Redis };

/**
 * What callers hold: one Redis, or a Redis Cluster (REDIS_URL redis+cluster://…). Every key a
 * command, MULTI, pipeline or script names at once shares one hash slot (`{…}` hash tags).
 */
export type RedisClient = Redis | Cluster;

/** What a Redis connection is made from (the app's settings, or just a URL in tests and tools). */
export interface RedisConnectionSettings {
  /**
   * redis://[user:password@]host:port, rediss:// for TLS; a Redis Cluster is
   * redis+cluster://[user:password@]host1:port1,host2:port2,… (rediss+cluster:// for TLS).
   */
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
  if (isRedisClusterUrl(url)) {
    // host lists are no WHATWG URL: the password is what sits between the first ':' and the '@'
    return url.replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
  }
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

/** Reconnect delays: 100 ms more each attempt, 2 s at most, forever. */
const reconnectDelay = (times: number) => Math.min(100 * times, 2000);

/** Logs a connection's errors once each (not every retry) and says when it is back. */
function logStateChanges(client: RedisClient | Redis, log: Logger, name: string, url: string): void {
  let lastError = '';
  client.on('error', (err: Error) => {
    const message = describeRedisError(err);
    if (message !== lastError) log.warn({ err: message, conn: name, redis: maskUrl(url) }, 'redis error');
    lastError = message;
  });
  client.on('ready', () => {
    if (lastError) log.info({ conn: name }, 'redis reconnected');
    lastError = '';
  });
}

const tlsOptions = (settings: RedisConnectionSettings): RedisOptions =>
  settings.REDIS_TLS_CA_FILE ? { tls: { ca: readSettingFile('REDIS_TLS_CA_FILE', settings.REDIS_TLS_CA_FILE) } } : {};

/**
 * A Redis client that reconnects forever and logs state changes instead of throwing them: a
 * `Redis` for redis:// and rediss://, a `Cluster` for redis+cluster:// and rediss+cluster://
 * (the URL's nodes are seeds; the client follows the slot map, MOVED/ASK and failovers). `options`
 * are each node connection's.
 */
export function createRedis(
  connection: string | RedisConnectionSettings,
  log: Logger,
  name: string,
  options: RedisOptions = {},
): RedisClient {
  const settings = typeof connection === 'string' ? { REDIS_URL: connection } : connection;
  const tls = tlsOptions(settings);
  const base: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: 2,
    reconnectOnError: () => true,
    ...tls,
  };
  if (isRedisClusterUrl(settings.REDIS_URL)) {
    const target = parseRedisClusterUrl(settings.REDIS_URL);
    const { retryStrategy: _, enableOfflineQueue, lazyConnect, ...nodeOptions } = options;
    const clusterOptions: ClusterOptions = {
      // every node takes the URL's credentials; rediss+cluster:// is TLS to every node
      redisOptions: {
        ...base,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.tls && !tls.tls ? { tls: {} } : {}),
        // MOVED/ASK are the cluster's to follow; reconnecting on them would only slow it down
        reconnectOnError: (err) => !/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b/.test(err.message),
        ...nodeOptions,
      },
      clusterRetryStrategy: reconnectDelay,
      enableReadyCheck: true,
      // during a failover: wait for the new slot map rather than fail the command
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 200,
      maxRedirections: 32,
      slotsRefreshTimeout: 2000,
      ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
      ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    };
    const cluster = new Cluster(target.nodes, clusterOptions);
    orderPublishes(cluster);
    logStateChanges(cluster, log, name, settings.REDIS_URL);
    return cluster;
  }
  // the URL's user and password (and rediss:// for TLS) are ioredis's own: AUTH on every (re)connect
  const redis = new Redis(settings.REDIS_URL, {
    ...base,
    retryStrategy: reconnectDelay,
    ...options,
  });
  logStateChanges(redis, log, name, settings.REDIS_URL);
  return redis;
}

/** PUBLISH run by the node of the channel's hash slot: the channel is the script's one key. */
const PUBLISH_LUA = "return redis.call('PUBLISH', KEYS[1], ARGV[1])";

/**
 * A cluster client sends a keyless command such as PUBLISH to any node, and messages taken by
 * different nodes reach a subscriber over different cluster-bus links, so one channel's messages
 * could arrive out of order. Here every PUBLISH of this client (alone or in a pipeline) goes to the
 * master of the channel's hash slot instead, as a one-line script naming the channel as its key:
 * one node, one connection, the order kept; MOVED after a failover is followed like any key's.
 */
function orderPublishes(cluster: Cluster): void {
  type Publish = (channel: string | Buffer, message: string | Buffer) => Promise<number>;
  const publish: Publish = (channel, message) => cluster.eval(PUBLISH_LUA, 1, channel, message) as Promise<number>;
  (cluster as unknown as { publish: Publish }).publish = publish;
  const pipeline = cluster.pipeline.bind(cluster);
  cluster.pipeline = (commands?: unknown[][]) => {
    const p = pipeline(commands);
    (p as unknown as { publish: (c: string | Buffer, m: string | Buffer) => unknown }).publish = (c, m) =>
      p.eval(PUBLISH_LUA, 1, c, m);
    return p;
  };
}

/**
 * A connection for SUBSCRIBE that emits 'ready' after every (re)connection, so that its owner
 * resubscribes and fills the gap from history (ioredis's own resubscribe is off). For one Redis,
 * a plain connection to it. For a Redis Cluster, a plain connection to one node (classic pub/sub
 * is broadcast to every node, so any node hears every channel); when that node is lost, the next
 * reconnect goes to the next node known: the URL's seeds, and every node the cluster listed since.
 */
export function createRedisSubscriber(connection: string | RedisConnectionSettings, log: Logger, name: string): Redis {
  const settings = typeof connection === 'string' ? { REDIS_URL: connection } : connection;
  const options: RedisOptions = { autoResubscribe: false, maxRetriesPerRequest: null };
  if (!isRedisClusterUrl(settings.REDIS_URL)) {
    return createRedis(settings, log, name, options) as Redis;
  }
  const target = parseRedisClusterUrl(settings.REDIS_URL);
  const tls = tlsOptions(settings);
  const nodes = [...target.nodes];
  let next = 0;
  const first = nodes[0] ?? { host: '127.0.0.1', port: 6379 };
  const redis = new Redis({
    host: first.host,
    port: first.port,
    connectionName: name,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls && !tls.tls ? { tls: {} } : {}),
    ...tls,
    ...options,
    retryStrategy: (times) => {
      // the options are read again on each connect: moving host and port moves the connection
      next = (next + 1) % nodes.length;
      const node = nodes[next] ?? first;
      redis.options.host = node.host;
      redis.options.port = node.port;
      return Math.min(50 * times, 1000);
    },
  });
  redis.on('ready', () => {
    // learn the cluster's other nodes, for when this one goes
    redis
      .call('CLUSTER', 'NODES')
      .then((reply) => {
        for (const line of String(reply).split('\n')) {
          const addr = /^\S+ (\S+?):(\d+)@/.exec(line);
          if (!addr || /\b(fail|noaddr|handshake)\b/.test(line.split(' ')[2] ?? '')) continue;
          const host = addr[1] ?? '';
          const port = Number(addr[2]);
          if (host && !nodes.some((n) => n.host === host && n.port === port)) nodes.push({ host, port });
        }
      })
      .catch(() => undefined);
  });
  logStateChanges(redis, log, name, settings.REDIS_URL);
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

export const redisCheck = (redis: RedisClient) =>
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
