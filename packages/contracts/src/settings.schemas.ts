// Environment settings, one schema per app, composed from shared fragments.
// Parsed once at boot by @ratewire/runtime's loadSettings; process.env is read nowhere else.
import { z } from 'zod';

export const DEV_JWT_SECRET = 'ratewire-dev-only-jwt-secret-do-not-use-in-production';

/** Local service URLs that `npm start` / `npm test` bring up (scripts/bootstrap/services.ts). */
export const LOCAL_URLS = {
  DATABASE_URL: 'postgres://ratewire@127.0.0.1:55432/ratewire',
  REDIS_URL: 'redis://127.0.0.1:56379',
  NATS_URL: 'nats://127.0.0.1:54222',
} as const;

const urlWith = (protocols: readonly string[], what: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `expected a ${what} URL (${protocols.map((p) => `${p}://`).join(' or ')})` },
  );

/** A node of a Redis Cluster URL. */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/** What a `redis+cluster://` URL names: its seed nodes, the credentials every node takes, TLS or not. */
export interface RedisClusterTarget {
  nodes: RedisClusterNode[];
  username: string;
  password: string;
  tls: boolean;
}

/** True for `redis+cluster://…` and `rediss+cluster://…` (a Redis Cluster), false for any other URL. */
export const isRedisClusterUrl = (url: string): boolean => /^rediss?\+cluster:\/\//i.test(url);

const decodedPart = (part: string) => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

/**
 * `redis+cluster://[user:password@]host1:port1,host2:port2,…` (`rediss+cluster://` for TLS): the
 * seed nodes (any of a cluster's nodes; the client learns the rest), each port 6379 when left out.
 * Throws an Error saying what is wrong. A cluster has only database 0: no path, query or fragment.
 */
export function parseRedisClusterUrl(url: string): RedisClusterTarget {
  const m = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/?)$/i.exec(url.trim());
  if (!m) {
    throw new Error(
      'expected redis+cluster://[user:password@]host1:port1,host2:port2,… (no database, query or fragment)',
    );
  }
  const [, scheme = 'redis', credentials = '', hostList = ''] = m;
  const colon = credentials.indexOf(':');
  const nodes = hostList.split(',').map((part, index) => {
    const node = part.trim();
    const hp = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(node);
    const host = hp?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '';
    const hostOk = z.union([z.ipv4(), z.ipv6(), z.hostname()]).safeParse(host).success;
    const port = hp?.[2] === undefined ? 6379 : Number(hp[2]);
    if (!hp || !hostOk || !Number.isInteger(port) || port < 1 || port > 65535) {
      // the node is named by its place, not its text: a misplaced password must not be printed
      throw new Error(`node ${index + 1} is not host:port (a host name or IP address, a port from 1 to 65535)`);
    }
    return { host, port };
  });
  return {
    nodes,
    username: decodedPart(colon < 0 ? credentials : credentials.slice(0, colon)),
    password: colon < 0 ? '' : decodedPart(credentials.slice(colon + 1)),
    tls: scheme.toLowerCase() === 'rediss',
  };
}

/** A single Redis (redis://, rediss://) or a Redis Cluster (redis+cluster://, rediss+cluster://). */
const redisUrl = z.string().superRefine((value, ctx) => {
  if (isRedisClusterUrl(value)) {
    try {
      parseRedisClusterUrl(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `a Redis Cluster URL: ${(err as Error).message}` });
    }
    return;
  }
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {
    // not a URL: said below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    ctx.addIssue({
      code: 'custom',
      message:
        'expected a Redis URL (redis:// or rediss://), or redis+cluster://host1:port1,host2:port2,… for a Redis Cluster',
    });
  }
});

const intSetting = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const port = intSetting(0, 65535);

const optionalNonEmpty = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** A file read at start-up (a key, a certificate, a credentials file). */
const filePath = optionalNonEmpty.pipe(z.string().max(4096, { message: 'at most 4096 characters' }).optional());

/** The address a port listens on: an IP address or a host name. */
const listenHost = z.union([z.ipv4(), z.ipv6(), z.hostname()], {
  message: 'expected an IP address (127.0.0.1, 0.0.0.0, ::) or a host name',
});

/** `user:password` (or a token) of a URL, as written; '' when it carries none. */
const credentialsOf = (url: string) => {
  const u = new URL(url);
  return u.username || u.password ? `${u.username}:${u.password}` : '';
};

const hostList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );

/** Comma-separated delays in ms: the value at index n is the wait after n attempts; the last one repeats. */
const retrySchedule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) => v.split(',').map((s) => s.trim()))
    .pipe(
      z
        .array(z.string().regex(/^\d+$/, { message: 'expected whole numbers of milliseconds' }).transform(Number))
        .min(1),
    );

/**
 * The origin (and optional path) of the public site, as the links mailed to users start with it:
 * http(s), no credentials, query or fragment; given without its trailing slash.
 */
export const publicBaseUrlSetting = urlWith(['http', 'https'], 'HTTP')
  .refine(
    (v) => {
      const u = new URL(v);
      return !u.username && !u.password && !u.search && !u.hash;
    },
    { message: 'expected an origin and optional path, without credentials, query or fragment' },
  )
  .transform((v) => {
    const u = new URL(v);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  });

/** `Name <address@example.com>` or a bare address, as the From of a mail; no line breaks. */
const mailFromSetting = z.string().transform((v, ctx) => {
  const m = /^\s*(?:(.*?)\s*<([^<>]*)>|([^<>]*?))\s*$/.exec(v);
  const address = (m?.[2] ?? m?.[3] ?? '').trim();
  const name = (m?.[1] ?? '').replace(/^"(.*)"$/, '$1').trim();
  if (!m || /[\r\n]/.test(v) || /["\\]/.test(name) || !z.email().safeParse(address).success) {
    ctx.addIssue({ code: 'custom', message: 'expected an address, with an optional name: Name <address@example.com>' });
    return z.NEVER;
  }
  return { name, address };
});

/** Mail the worker sends (confirmation and password-reset links). */
const mailSettings = {
  /** Where mail is sent (smtp://user:password@host:587, smtps:// for TLS); unset: mail stays queued. */
  SMTP_URL: optionalNonEmpty.pipe(urlWith(['smtp', 'smtps'], 'SMTP').optional()),
  MAIL_FROM: mailFromSetting.prefault('Ratewire <no-reply@ratewire.localhost>'),
  /** Links in mail are built from this alone, never from a request. */
  PUBLIC_BASE_URL: publicBaseUrlSetting.prefault('http://localhost:8000'),
  MAIL_RETRY_SCHEDULE_MS: retrySchedule('0,10000,60000,300000,1800000,7200000'),
  MAIL_MAX_ATTEMPTS: intSetting(1, 100).default(8),
  /**
   * Connecting, the greeting, and each reply of the SMTP server; one mail gets 3× this in all. A
   * claimed mail whose worker died is retried after that + 5 s.
   */
  MAIL_TIMEOUT_MS: intSetting(100, 120_000).default(30_000),
};

export const commonSettingsSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: urlWith(['postgres', 'postgresql'], 'Postgres').default(LOCAL_URLS.DATABASE_URL),
    /**
     * A direct Postgres session (not through a transaction-mode pooler such as PgBouncer) for what
     * needs one: the worker's leader lock, the api's LISTEN connection, and migrations. Unset: DATABASE_URL.
     */
    DATABASE_DIRECT_URL: optionalNonEmpty.pipe(urlWith(['postgres', 'postgresql'], 'Postgres').optional()),
    REDIS_URL: redisUrl.default(LOCAL_URLS.REDIS_URL),
    NATS_URL: z
      .string()
      .default(LOCAL_URLS.NATS_URL)
      .transform((v) => v.split(',').map((s) => s.trim()))
      .pipe(
        z
          .array(urlWith(['nats', 'tls'], 'NATS'))
          .min(1)
          .refine((urls) => new Set(urls.map(credentialsOf)).size === 1, {
            message: 'every URL carries the same credentials, or none does',
          }),
      ),
    /** CA certificate(s) for a rediss:// server whose certificate a public CA did not sign. */
    REDIS_TLS_CA_FILE: filePath,
    /** A NATS credentials file (user JWT and nkey seed, as `nsc` writes it). */
    NATS_CREDS_FILE: filePath,
    /** A file holding a NATS user nkey seed (SU…). */
    NATS_NKEY_SEED_FILE: filePath,
    /** CA certificate(s) for the NATS server's TLS certificate; setting it turns TLS on. */
    NATS_TLS_CA_FILE: filePath,
    /** Client certificate and key for NATS servers that verify clients (set both). */
    NATS_TLS_CERT_FILE: filePath,
    NATS_TLS_KEY_FILE: filePath,
    /**
     * Copies JetStream keeps of every stream and durable consumer the apps create: 1 on a single
     * server, 3 on a three-node cluster (a node may then be lost). An existing stream or consumer with
     * another count is brought to this one at start-up.
     */
    NATS_STREAM_REPLICAS: intSetting(1, 5).default(1),
  })
  // kept by .extend(): every app's settings get these checks
  .superRefine(connectionChecks);

interface ConnectionSettings {
  REDIS_URL: string;
  REDIS_TLS_CA_FILE?: string | undefined;
  NATS_URL: string[];
  NATS_CREDS_FILE?: string | undefined;
  NATS_NKEY_SEED_FILE?: string | undefined;
  NATS_TLS_CERT_FILE?: string | undefined;
  NATS_TLS_KEY_FILE?: string | undefined;
}

/** Checks across the connection settings; each issue names the key to change. */
function connectionChecks(s: ConnectionSettings, ctx: z.RefinementCtx): void {
  const natsAuth = [
    s.NATS_URL.some((url) => credentialsOf(url) !== '') && 'credentials in NATS_URL',
    s.NATS_NKEY_SEED_FILE && 'NATS_NKEY_SEED_FILE',
    s.NATS_CREDS_FILE && 'NATS_CREDS_FILE',
  ].filter((x): x is string => Boolean(x));
  if (natsAuth.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [s.NATS_CREDS_FILE ? 'NATS_CREDS_FILE' : 'NATS_NKEY_SEED_FILE'],
      message: `NATS takes one way to authenticate; ${natsAuth.join(' and ')} are set`,
    });
  }
  if (Boolean(s.NATS_TLS_CERT_FILE) !== Boolean(s.NATS_TLS_KEY_FILE)) {
    ctx.addIssue({
      code: 'custom',
      path: [s.NATS_TLS_CERT_FILE ? 'NATS_TLS_KEY_FILE' : 'NATS_TLS_CERT_FILE'],
      message: 'NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE are set together or not at all',
    });
  }
  if (s.REDIS_TLS_CA_FILE && !/^rediss(\+cluster)?:\/\//i.test(s.REDIS_URL)) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_TLS_CA_FILE'],
      message: 'is for TLS connections: REDIS_URL must be a rediss:// (or rediss+cluster://) URL',
    });
  }
}

const cbrSettings = {
  CBR_BASE_URL: urlWith(['http', 'https'], 'HTTP').default('https://www.cbr.ru'),
  CBR_POLL_INTERVAL_MS: intSetting(1000, 86_400_000).default(120_000),
};
const binanceSettings = {
  BINANCE_BASE_URL: urlWith(['http', 'https'], 'HTTP').default('https://api.binance.com'),
  BINANCE_POLL_INTERVAL_MS: intSetting(1000, 86_400_000).default(10_000),
};

/** Binance's own stream origin, BINANCE_WS_URL's default. */
export const BINANCE_DEFAULT_WS_URL = 'wss://stream.binance.com:9443';

const isBinanceHost = (url: string) => {
  const host = new URL(url).hostname.toLowerCase();
  return host === 'binance.com' || host.endsWith('.binance.com');
};

/**
 * Whether BINANCE_BASE_URL and BINANCE_WS_URL name the same exchange: both Binance's own hosts, or
 * both something else (a replay server, a proxy). The stream's events are merged into the REST
 * snapshot, so the two must describe one market.
 */
export function binanceOriginsAgree(baseUrl: string, wsUrl: string): boolean {
  return isBinanceHost(baseUrl) === isBinanceHost(wsUrl);
}

/** Worker-only: the all-market mini-ticker stream (see the README's Feeds section). */
const binanceStreamSettings = {
  /** off: polling only; auto: the stream, polling while it is silent or failing; on: the stream only. */
  BINANCE_STREAM: z.enum(['off', 'auto', 'on'], { message: 'expected off, auto or on' }).default('auto'),
  /** Stream origin; `/stream?streams=!miniTicker@arr` is appended. */
  BINANCE_WS_URL: urlWith(['ws', 'wss'], 'WebSocket').default(BINANCE_DEFAULT_WS_URL),
};

export const apiSettingsSchema = commonSettingsSchema
  .extend({
    PORT: port.default(8000),
    JWT_SECRET: z.string().min(32, { message: 'must be at least 32 characters' }).default(DEV_JWT_SECRET),
    JWT_TTL_SECONDS: intSetting(60, 30 * 86_400).default(3600),
    ADMIN_EMAIL: optionalNonEmpty.pipe(z.email({ message: 'expected an email address' }).optional()),
    ADMIN_PASSWORD: optionalNonEmpty.pipe(z.string().min(8, { message: 'must be at least 8 characters' }).optional()),
    TRUST_PROXY: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** true: writes by an account whose address is not confirmed get 403 `email_unconfirmed`. */
    AUTH_REQUIRE_CONFIRMED_EMAIL: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** /ws heartbeat: a socket that has not answered the previous ping by the next one is dropped. */
    WS_PING_INTERVAL_MS: intSetting(100, 600_000).default(30_000),
    /** Open /ws sockets one client address may hold; the next one is closed with 1008. */
    WS_MAX_CONNECTIONS_PER_IP: intSetting(1, 1_000_000).default(50),
    /**
     * On SIGTERM: how long /readyz answers 503 `draining` while HTTP and /ws are still served, so a
     * balancer (or Kubernetes endpoints) stops sending here before the server stops accepting.
     */
    SHUTDOWN_DRAIN_MS: intSetting(0, 120_000).default(5000),
    /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: optionalNonEmpty.pipe(z.string().min(16, { message: 'must be at least 16 characters' }).optional()),
    /** Requests per minute one API key may make (its token bucket's size; refilled evenly over the minute). */
    API_KEY_RATE_LIMIT: intSetting(1, 1_000_000_000).default(600),
    /** Active alerts one account may hold; creating (or resuming) one more answers 409 `alert_limit`. */
    ALERTS_MAX_ACTIVE_PER_USER: intSetting(1, 1_000_000).default(100),
    /** The web console's build (apps/web/dist by default), served at `/`. */
    WEB_DIST_DIR: optionalNonEmpty,
    ...cbrSettings,
    ...binanceSettings,
  })
  .superRefine((s, ctx) => {
    if (s.NODE_ENV === 'production' && s.JWT_SECRET === DEV_JWT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'is the development default; set a secret of your own when NODE_ENV=production',
      });
    }
    if (Boolean(s.ADMIN_EMAIL) !== Boolean(s.ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [s.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'],
        message: 'ADMIN_EMAIL and ADMIN_PASSWORD are set together or not at all',
      });
    }
  });

/**
 * BINANCE_STREAM=on against another exchange's REST origin cannot work (auto polls instead:
 * compose.ts logs why). Added before the worker's .extend(), it runs on the extended object.
 */
function binanceStreamCheck(settings: object, ctx: z.RefinementCtx): void {
  const s = settings as { BINANCE_STREAM?: string; BINANCE_BASE_URL?: string; BINANCE_WS_URL?: string };
  if (!s.BINANCE_BASE_URL || !s.BINANCE_WS_URL) return;
  if (s.BINANCE_STREAM === 'on' && !binanceOriginsAgree(s.BINANCE_BASE_URL, s.BINANCE_WS_URL)) {
    ctx.addIssue({
      code: 'custom',
      path: ['BINANCE_WS_URL'],
      message: `BINANCE_STREAM=on merges the stream into BINANCE_BASE_URL's prices, but ${new URL(s.BINANCE_WS_URL).host} and ${new URL(s.BINANCE_BASE_URL).host} are not the same exchange; set BINANCE_WS_URL to the stream of BINANCE_BASE_URL`,
    });
  }
}

export const workerSettingsSchema = commonSettingsSchema.superRefine(binanceStreamCheck).extend({
  HEALTH_PORT: port.default(8001),
  /** Where /healthz and /readyz listen; 0.0.0.0 when probes come from outside the host or container. */
  HEALTH_HOST: listenHost.default('127.0.0.1'),
  ...cbrSettings,
  ...binanceSettings,
  ...binanceStreamSettings,
  BINANCE_HISTORY_RETENTION_DAYS: intSetting(1, 3650).default(7),
  EXCHANGE_CALLBACK_URL: optionalNonEmpty.pipe(urlWith(['http', 'https'], 'HTTP').optional()),
  EXCHANGE_CALLBACK_TOKEN: optionalNonEmpty,
  CALLBACK_ALLOWED_HOSTS: hostList,
  /** Comma-separated callback retry delays in ms; the last one repeats until the attempts run out. */
  CALLBACK_RETRY_SCHEDULE_MS: retrySchedule('0,5000,300000,1800000,7200000,18000000,36000000'),
  CALLBACK_MAX_ATTEMPTS: intSetting(1, 100).default(8),
  /** Per-attempt callback timeout; a claimed delivery whose worker died is retried after this + 5 s. */
  CALLBACK_TIMEOUT_MS: intSetting(100, 120_000).default(15_000),
  /**
   * Callbacks one worker sends at a time (and claims: no more than it sends); each outcome is stored
   * as soon as its send ends, so a worker killed mid-send sends again at most this many.
   */
  CALLBACK_CONCURRENCY: intSetting(1, 1000).default(32),
  /** JetStream ack wait of the job consumer: a job whose worker died is redelivered after this. */
  JOBS_ACK_WAIT_MS: intSetting(1000, 600_000).default(30_000),
  /** Ack wait of the shared alert-evaluation consumer: a tick whose worker died is judged again after this. */
  ALERTS_ACK_WAIT_MS: intSetting(1000, 600_000).default(30_000),
  ...mailSettings,
});

export const notifierSettingsSchema = commonSettingsSchema.extend({
  HEALTH_PORT: port.default(8002),
  HEALTH_HOST: listenHost.default('127.0.0.1'),
  WS_HISTORY_MAX_LEN: intSetting(10, 1_000_000).default(1000),
  WS_HISTORY_MAX_AGE_MS: intSetting(1000, 86_400_000).default(120_000),
});

export type CommonSettings = z.infer<typeof commonSettingsSchema>;
export type ApiSettings = z.infer<typeof apiSettingsSchema>;
export type WorkerSettings = z.infer<typeof workerSettingsSchema>;
export type NotifierSettings = z.infer<typeof notifierSettingsSchema>;
