// /ws tests: api replicas in-process and notifier processes over a Redis and a NATS of the test's
// own (channel names are fixed, so sharing servers with other suites would mix their frames), and a
// WebSocket client that records every frame.
import { apiSettingsSchema, type ApiSettings } from '@ratewire/contracts';
import {
  createLogger,
  createNats,
  createRedis,
  parseSettings,
  type NatsConnection,
  type RedisClient,
} from '@ratewire/runtime';
import { createTestDatabase, spawnApp, type AppProcess, type TestDatabase } from '@ratewire/testkit';
import { WebSocket } from 'ws';

import {
  startFileRedis,
  startPrivateNats,
  startPrivateRedis,
  type PrivateServer,
} from '@ratewire/testkit/private-servers';
import { composeApi, type ApiApp } from '../src/compose.ts';
import type { ApiDeps } from '../src/deps.ts';

export { startPrivateNats, startPrivateRedis, type PrivateServer };

export interface WsApi {
  url: string;
  wsUrl: string;
  api: ApiApp;
  deps: ApiDeps;
  close(): Promise<void>;
}

/** An api replica in-process on an ephemeral port, over the given database, Redis and NATS. */
export async function startWsApi(
  database: TestDatabase,
  redisUrl: string,
  natsUrl: string,
  env: Record<string, string> = {},
): Promise<WsApi> {
  const settings: ApiSettings = parseSettings(apiSettingsSchema, {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    NATS_URL: natsUrl,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // close() stops at once unless a test drains
    SHUTDOWN_DRAIN_MS: '0',
    ...env,
  });
  const log = createLogger('api-test', settings.LOG_LEVEL);
  const redis = createRedis(settings.REDIS_URL, log, 'api-test');
  const nats = await createNats(settings.NATS_URL, log, 'api-test');
  const deps: ApiDeps = { settings, log, pool: database.pool, db: database.db, redis, nats };
  const api = composeApi(deps);
  const url = await api.listen(0, '127.0.0.1');
  return {
    url,
    wsUrl: `${url.replace('http', 'ws')}/ws`,
    api,
    deps,
    async close() {
      await api.close();
      await nats.drain().catch(() => {});
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** A notifier as a real process; resolves once it is bridging. */
export async function startNotifier(redisUrl: string, natsUrl: string, env: Record<string, string> = {}) {
  const proc: AppProcess = spawnApp('notifier', {
    REDIS_URL: redisUrl,
    NATS_URL: natsUrl,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
  await proc.waitForLine(/"msg":"notifier started"/, 30_000);
  return {
    proc,
    async stop() {
      if (proc.child.exitCode !== null) return;
      proc.child.kill('SIGTERM');
      await proc.exited;
    },
  };
}

export type Frame = Record<string, unknown> & { type: string };

/** Frames whose ids (Redis stream ids, `<ms>-<seq>`) strictly increase, compared as numbers. */
export const idsIncrease = (frames: Frame[]): boolean =>
  frames.every((f, i) => {
    if (i === 0) return true;
    const [am, as] = String(frames[i - 1]!.id)
      .split('-')
      .map(BigInt);
    const [bm, bs] = String(f.id).split('-').map(BigInt);
    return bm! > am! || (bm === am && bs! > as!);
  });

/** A /ws client that keeps every frame it got, in order. */
export class WsClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();

  constructor(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.notify();
      }),
    );
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse((data as Buffer).toString()) as Frame);
      this.notify();
    });
  }

  static async open(url: string, options?: ConstructorParameters<typeof WebSocket>[2]): Promise<WsClient> {
    const client = new WsClient(url, options);
    await client.opened;
    await client.waitFor((f) => f.type === 'welcome');
    return client;
  }

  send(op: unknown): void {
    this.ws.send(typeof op === 'string' ? op : JSON.stringify(op));
  }

  /** Sends a subscribe and waits for its `subscribed` (or error) answer. */
  async subscribe(channel: string, since?: string): Promise<Frame> {
    const from = this.frames.length;
    this.send(since === undefined ? { op: 'subscribe', channel } : { op: 'subscribe', channel, since });
    return this.waitFor((f) => (f.type === 'subscribed' && f.channel === channel) || f.type === 'error', from);
  }

  /** Ops are answered in order: a pong means everything sent before it was handled. */
  async barrier(): Promise<void> {
    const from = this.frames.length;
    this.send({ op: 'ping' });
    await this.waitFor((f) => f.type === 'pong', from);
  }

  events(channel?: string): Frame[] {
    return this.frames.filter((f) => f.type === 'event' && (channel === undefined || f.channel === channel));
  }

  /** The first frame from index `from` on that matches. */
  waitFor(match: (f: Frame) => boolean, from = 0, timeoutMs = 15_000): Promise<Frame> {
    return this.until(() => this.frames.slice(from).find(match), timeoutMs, 'a matching frame');
  }

  /** Resolves when `check` returns something truthy; re-checked on every frame. */
  until<T>(check: () => T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const test = () => {
        const value = check();
        if (value) {
          clearTimeout(timer);
          this.waiters.delete(test);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.slice(-10))}`));
      }, timeoutMs);
      this.waiters.add(test);
      test();
    });
  }

  close(): void {
    this.ws.close();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

export async function natsClient(url: string): Promise<NatsConnection> {
  return createNats([url], createLogger('test', 'silent'), 'ws-test');
}

export function redisClient(url: string): RedisClient {
  return createRedis(url, createLogger('test', 'silent'), 'ws-test');
}

/** A whole /ws setup of a file's own: database, Redis, NATS, a notifier, api replicas, clients to publish with. */
export interface WsStack {
  database: TestDatabase;
  redisServer: PrivateServer;
  natsServer: PrivateServer;
  notifier: Awaited<ReturnType<typeof startNotifier>>;
  /** One replica per entry of `apiEnv`. */
  apis: WsApi[];
  nc: NatsConnection;
  redis: RedisClient;
  /** A socket to `api` (the first replica by default); closed with the stack. */
  open(api?: WsApi, query?: string, options?: Parameters<typeof WsClient.open>[1]): Promise<WsClient>;
  close(): Promise<void>;
}

export async function startWsStack(
  options: { notifierEnv?: Record<string, string>; apiEnv?: Record<string, string>[] } = {},
): Promise<WsStack> {
  const [database, redisServer, natsServer] = await Promise.all([
    createTestDatabase(),
    // the file's own redis-server (in the redis-cluster project: the project's cluster)
    startFileRedis(),
    startPrivateNats(),
  ]);
  const notifier = await startNotifier(redisServer.url, natsServer.url, options.notifierEnv);
  const apis = await Promise.all(
    (options.apiEnv ?? [{}]).map((env) => startWsApi(database, redisServer.url, natsServer.url, env)),
  );
  const nc = await natsClient(natsServer.url);
  const redis = redisClient(redisServer.url);
  const clients: WsClient[] = [];
  return {
    database,
    redisServer,
    natsServer,
    notifier,
    apis,
    nc,
    redis,
    async open(api = apis[0]!, query = '', clientOptions) {
      const c = await WsClient.open(`${api.wsUrl}${query}`, clientOptions);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.ws.terminate();
      for (const api of apis) await api.close();
      await notifier.stop();
      await nc.drain();
      redis.disconnect();
      await redisServer.close();
      await natsServer.close();
      await database.drop();
    },
  };
}
