// DATABASE_DIRECT_URL: a real worker process whose DATABASE_URL goes through a TCP proxy (as it
// would through PgBouncer) and whose DATABASE_DIRECT_URL reaches Postgres itself. The proxy reads
// each connection's startup packet, so it knows which of the worker's sessions came through it: the
// pool's do, the leader lock's must not. Without DATABASE_DIRECT_URL the lock goes through it.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  FEEDS_OUT_OF_REACH,
  createTestDatabase,
  killApps,
  spawnApp,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '@ratewire/testkit';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

interface ProxiedSession {
  applicationName: string | undefined;
  /** The proxy's own port towards Postgres: what pg_stat_activity shows as client_port. */
  upstreamPort: number | undefined;
}

interface PgProxy {
  url: string;
  sessions: ProxiedSession[];
  close(): Promise<void>;
}

/** The parameters of a Postgres StartupMessage (length, protocol 3.0, then name\0value\0 … \0). */
function startupParameters(packet: Buffer): Map<string, string> | null {
  if (packet.length < 8 || packet.readInt32BE(4) !== 196_608) return null;
  const parts = packet.subarray(8, packet.readInt32BE(0)).toString('utf8').split('\0');
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) params.set(parts[i]!, parts[i + 1]!);
  return params;
}

/** A TCP proxy in front of the Postgres of `target`, noting every session's application_name. */
async function startPgProxy(target: string): Promise<PgProxy> {
  const upstream = new URL(target);
  const sessions: ProxiedSession[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const session: ProxiedSession = { applicationName: undefined, upstreamPort: undefined };
    sessions.push(session);
    const pg = createConnection({ host: upstream.hostname, port: Number(upstream.port) }, () => {
      session.upstreamPort = pg.localPort;
    });
    for (const s of [client, pg]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length >= 4 && head.length >= head.readInt32BE(0)) {
        client.off('data', onData);
        session.applicationName = startupParameters(head)?.get('application_name');
        pg.write(head);
        client.pipe(pg);
      }
    };
    client.on('data', onData);
    pg.pipe(client);
    client.on('close', () => pg.destroy());
    pg.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = Object.assign(new URL(target), { port: String((server.address() as AddressInfo).port) }).toString();
  return {
    url,
    sessions,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let database: TestDatabase;
let nats: PrivateServer;
let proxy: PgProxy;
const workers: AppProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  nats = await startPrivateNats();
  proxy = await startPgProxy(database.url);
});
afterAll(async () => {
  await killApps(workers);
  await proxy?.close();
  await nats?.close();
  await database?.drop();
});

function spawn(env: Record<string, string>): AppProcess {
  const w = spawnApp('worker', {
    NATS_URL: nats.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    ...FEEDS_OUT_OF_REACH,
    ...env,
  });
  workers.push(w);
  return w;
}

const throughProxy = (name: string) => proxy.sessions.filter((s) => s.applicationName === name);

/** This database's sessions named `name`, as Postgres sees them (client_port: who connected). */
async function sessionsOf(name: string): Promise<number[]> {
  const { rows } = await database.pool.query<{ client_port: number }>(
    'select client_port from pg_stat_activity where datname = current_database() and application_name = $1',
    [name],
  );
  return rows.map((r) => r.client_port);
}

describe('DATABASE_DIRECT_URL', () => {
  it('takes the leader lock on the direct URL; the pool stays on DATABASE_URL', { timeout: 60_000 }, async () => {
    const w = spawn({ DATABASE_URL: proxy.url, DATABASE_DIRECT_URL: database.url });
    await w.waitForLine(/"msg":"became feed leader"/, 30_000);

    // the pool's sessions came through the proxy (DATABASE_URL); read after Postgres's list, the
    // proxy's knows every session in it that came its way
    const pool = await sessionsOf('ratewire-worker');
    const lock = await sessionsOf('ratewire-worker-leader');
    const proxied = new Set(proxy.sessions.map((s) => s.upstreamPort));
    expect(pool.length).toBeGreaterThan(0);
    expect(pool.every((port) => proxied.has(port))).toBe(true);
    expect(throughProxy('ratewire-worker').length).toBeGreaterThan(0);

    // the lock's session did not: Postgres sees it from a port the proxy never used
    expect(lock).toHaveLength(1);
    expect(proxied.has(lock[0])).toBe(false);
    expect(throughProxy('ratewire-worker-leader')).toEqual([]);
    console.log(
      `[measure] sessions through DATABASE_URL: ${proxy.sessions.length}; leader lock session on the direct URL: 1`,
    );
  });

  it('without it, the leader lock goes to DATABASE_URL as before', { timeout: 60_000 }, async () => {
    const w = spawn({ DATABASE_URL: proxy.url });
    await w.waitForLine(/"msg":"worker started"/, 30_000);
    // the first worker leads; this one still asks for the lock, over its own session through the proxy
    const lock = await waitFor(
      async () => {
        const ports = await sessionsOf('ratewire-worker-leader');
        return ports.length === 2 ? ports : null;
      },
      { timeoutMs: 15_000, what: "the second worker's lock session" },
    );
    const proxied = new Set(proxy.sessions.map((s) => s.upstreamPort));
    expect(lock.filter((port) => proxied.has(port))).toHaveLength(1);
    expect(throughProxy('ratewire-worker-leader')).toHaveLength(1);
  });
});
