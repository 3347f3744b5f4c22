// A Redis or a JetStream-enabled NATS server of a test's own (never the shared ones), for tests that
// stop a server to make an outage, depend on a stream's whole contents, or publish on fixed channel
// names other suites must not see, or that require credentials (`auth`); and a Redis Cluster of a
// test's own (`startPrivateRedisCluster`), with failovers on demand; and a three-node JetStream
// cluster (`startPrivateNatsCluster`) whose nodes are killed and started again one by one. Import as
// `@ratewire/testkit/private-servers`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { isRedisClusterUrl } from '@ratewire/contracts';

import { freePort } from './process.ts';

export interface PrivateServer {
  /** Its URL without credentials. */
  url: string;
  /** Its URL with the user and password it requires (the plain url when it requires none, or an nkey). */
  authUrl: string;
  port: number;
  /** Kills the server (SIGKILL: an outage, not a graceful stop). A NATS store survives. */
  stop(): Promise<void>;
  /** Starts it again on the same port (and, for NATS, the same store). */
  start(): Promise<void>;
  /** Stops it and removes what it stored. */
  close(): Promise<void>;
}

function binary(name: string): string {
  const found = ['/usr/sbin', '/usr/local/bin', '/usr/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} binary not found`);
  return found;
}

/**
 * Servers this test process started and has not seen exit. A test file that fails before its
 * teardown, or a worker that ends, must not leave them running: they are killed on exit.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function launch(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} did not start: ${out}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        child.stdout?.removeListener('data', onData);
        child.stderr?.removeListener('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}: ${out}`));
    });
  });
}

async function privateServer(
  port: number,
  url: string,
  authUrl: string,
  run: () => Promise<ChildProcess>,
  cleanup: () => void = () => {},
): Promise<PrivateServer> {
  let child: ChildProcess | null = null;
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  };
  const server: PrivateServer = {
    url,
    authUrl,
    port,
    stop,
    async start() {
      if (!child) child = await run();
    },
    async close() {
      await stop();
      cleanup();
    },
  };
  await server.start();
  return server;
}

const withCredentials = (url: string, user: string, password: string) => {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString().replace(/\/$/, '');
};

export interface PrivateRedisOptions {
  /**
   * `requirepass` (the default user's password) or, with `user`, an ACL user allowed everything
   * while the default user is switched off: either way a client without them is refused.
   */
  auth?: { user?: string; password: string };
}

export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateServer> {
  const cmd = binary('redis-server');
  const port = await freePort();
  const { auth } = options;
  const authArgs = !auth
    ? []
    : auth.user
      ? ['--user', 'default', 'off', '--user', auth.user, 'on', `>${auth.password}`, '~*', '&*', '+@all']
      : ['--requirepass', auth.password];
  const url = `redis://127.0.0.1:${port}`;
  return privateServer(port, url, auth ? withCredentials(url, auth.user ?? '', auth.password) : url, () =>
    launch(
      cmd,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...authArgs],
      /Ready to accept connections/,
    ),
  );
}

export interface PrivateNatsOptions {
  /** A user and password, or the public key (U…) of a user nkey, that every client must present. */
  auth?: { user: string; password: string } | { nkey: string };
}

export async function startPrivateNats(options: PrivateNatsOptions = {}): Promise<PrivateServer> {
  const cmd = binary('nats-server');
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'rw-nats-'));
  const { auth } = options;
  const configArgs: string[] = [];
  if (auth) {
    const user = 'nkey' in auth ? { nkey: auth.nkey } : { user: auth.user, password: auth.password };
    const config = join(store, 'auth.conf');
    // JSON is valid NATS configuration
    writeFileSync(config, JSON.stringify({ authorization: { users: [user] } }));
    configArgs.push('-c', config);
  }
  const url = `nats://127.0.0.1:${port}`;
  return privateServer(
    port,
    url,
    auth && 'user' in auth ? withCredentials(url, auth.user, auth.password) : url,
    () => launch(cmd, [...configArgs, '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], /Server is ready/),
    () => rmSync(store, { recursive: true, force: true }),
  );
}

/** A node of a private NATS cluster. */
export interface PrivateNatsNode {
  /** Its server_name (JetStream reports leaders by it). */
  name: string;
  url: string;
  port: number;
  /** The monitoring endpoint (`/jsz`, `/healthz`). */
  monitorUrl: string;
  /** Whether its process runs. */
  readonly running: boolean;
  /** SIGKILLs the node (an outage); its store survives. */
  stop(): Promise<void>;
  /** Starts it again with the same ports and store; resolves once it sees a JetStream meta leader. */
  start(): Promise<void>;
}

export interface PrivateNatsCluster {
  /** Every node's URL, comma-joined: a NATS_URL. */
  url: string;
  urls: string[];
  nodes: PrivateNatsNode[];
  /** The node named `name` (a stream's leader, say). */
  node(name: string): PrivateNatsNode;
  /** Resolves once every running node sees the same JetStream meta leader and every peer of it current. */
  ready(): Promise<void>;
  /** Kills every node and removes their stores. */
  close(): Promise<void>;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: { name: string; current: boolean }[] };
}

async function jsz(monitorUrl: string): Promise<Jsz | null> {
  try {
    const res = await fetch(`${monitorUrl}/jsz`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as Jsz) : null;
  } catch {
    return null;
  }
}

/**
 * A JetStream cluster of a test's own: `nodes` nats-server processes (3 by default), each with its
 * own store, client, cluster and monitoring port, routes to every other, and a unique server_name.
 * Resolves once the cluster has a JetStream meta leader that every node sees.
 */
export async function startPrivateNatsCluster(options: { nodes?: number } = {}): Promise<PrivateNatsCluster> {
  const cmd = binary('nats-server');
  const n = options.nodes ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'rw-nats-cluster-'));
  const ports: { client: number; cluster: number; http: number }[] = [];
  for (let i = 0; i < n; i++)
    ports.push({ client: await freePort(), cluster: await freePort(), http: await freePort() });
  const children = new Map<string, ChildProcess>();
  const kill = async (name: string) => {
    const c = children.get(name);
    children.delete(name);
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  };
  const nodes: PrivateNatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const config = join(dir, `${name}.conf`);
    // JSON is valid NATS configuration
    writeFileSync(
      config,
      JSON.stringify({
        server_name: name,
        listen: `127.0.0.1:${p.client}`,
        http: `127.0.0.1:${p.http}`,
        jetstream: { store_dir: join(dir, name) },
        cluster: {
          name: 'rw-test',
          listen: `127.0.0.1:${p.cluster}`,
          routes: ports.filter((o) => o !== p).map((o) => `nats-route://127.0.0.1:${o.cluster}`),
        },
      }),
    );
    const monitorUrl = `http://127.0.0.1:${p.http}`;
    const node: PrivateNatsNode = {
      name,
      url: `nats://127.0.0.1:${p.client}`,
      port: p.client,
      monitorUrl,
      get running() {
        return children.has(name);
      },
      stop: () => kill(name),
      async start() {
        if (children.has(name)) return;
        children.set(name, await launch(cmd, ['-c', config], /Server is ready/));
        await waitForCluster(`${name} to see a JetStream meta leader`, async () =>
          Boolean((await jsz(monitorUrl))?.meta_cluster?.leader),
        );
      },
    };
    return node;
  });
  const ready = () =>
    waitForCluster('a JetStream meta leader every node sees, with every peer current', async () => {
      const running = nodes.filter((x) => x.running);
      const seen = await Promise.all(running.map((x) => jsz(x.monitorUrl)));
      const leaders = new Set(seen.map((s) => s?.meta_cluster?.leader ?? ''));
      const [leader] = [...leaders];
      if (leaders.size !== 1 || !leader) return false;
      const fromLeader = seen[running.findIndex((x) => x.name === leader)];
      const peers = fromLeader?.meta_cluster?.replicas ?? [];
      return running.every((x) => x.name === leader || peers.some((r) => r.name === x.name && r.current));
    });
  const close = async () => {
    await Promise.all(nodes.map((x) => x.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // every node at once: a node waits for a meta leader, which needs a quorum of them
    await Promise.all(nodes.map((x) => x.start()));
    await ready();
  } catch (err) {
    await close();
    throw err;
  }
  const urls = nodes.map((x) => x.url);
  return {
    url: urls.join(','),
    urls,
    nodes,
    node(name) {
      const found = nodes.find((x) => x.name === name);
      if (!found) throw new Error(`no node named ${name} in the cluster (${nodes.map((x) => x.name).join(', ')})`);
      return found;
    },
    ready,
    close,
  };
}

async function waitForCluster(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`nats cluster: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A node of a private Redis Cluster as the cluster sees it now. */
export interface RedisClusterNodeState {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId: string | null;
  /** Slot ranges a master serves ([first, last] each). */
  slots: [number, number][];
  /** Marked failed by the cluster (killed). */
  failed: boolean;
}

export interface PrivateRedisCluster {
  /** `redis+cluster://127.0.0.1:<port>,…` naming every node. */
  url: string;
  ports: number[];
  /** Every node and its role, as a live node sees the cluster now. */
  nodes(): Promise<RedisClusterNodeState[]>;
  /** The port of the master serving `key`'s hash slot. */
  masterFor(key: string): Promise<number>;
  /**
   * CLUSTER FAILOVER on a replica of `masterPort` (the first master by default): a manual failover
   * without data loss. Resolves once the roles have swapped and every slot is served.
   */
  failover(masterPort?: number): Promise<{ from: number; to: number }>;
  /** SIGKILLs `masterPort` (the first master by default); resolves once its replica serves its slots. */
  killMaster(masterPort?: number): Promise<{ killed: number; promoted: number }>;
  /** Kills every node and removes their files. */
  close(): Promise<void>;
}

async function nodeCall<T>(port: number, call: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: 1000,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await call(redis);
  } finally {
    redis.disconnect();
  }
}

/** CLUSTER NODES as one node sees it. */
function parseClusterNodes(text: string): RedisClusterNodeState[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', addr = '', flags = '', master = '-', , , , , ...slotParts] = line.split(' ');
      const port = Number(/:(\d+)@/.exec(addr)?.[1]);
      const slots = slotParts
        .filter((s) => /^\d+(-\d+)?$/.test(s))
        .map((s) => {
          const [a, b] = s.split('-').map(Number) as [number, number | undefined];
          return [a, b ?? a] as [number, number];
        });
      return {
        port,
        id,
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: master === '-' ? null : master,
        slots,
        failed: /\bfail\b/.test(flags),
      } satisfies RedisClusterNodeState;
    });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis cluster: ${what} within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}`);
}

/**
 * A Redis Cluster of a test's own: 6 redis-server processes (3 masters, 3 replicas, node timeout
 * 1 s, nothing saved), created with `redis-cli --cluster create`. Resolves once every node says
 * cluster_state:ok with all 16384 slots assigned and every replica is in sync with its master.
 */
export async function startPrivateRedisCluster(): Promise<PrivateRedisCluster> {
  const server = binary('redis-server');
  const cli = binary('redis-cli');
  const dir = mkdtempSync(join(tmpdir(), 'rw-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const ports: number[] = [];
  const close = async () => {
    await Promise.all(
      [...children.values()].map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGKILL');
          }),
      ),
    );
    children.clear();
    rmSync(dir, { recursive: true, force: true });
  };
  const live = () => ports.filter((p) => children.has(p));
  const nodes = async () => {
    for (const port of live()) {
      try {
        return parseClusterNodes(String(await nodeCall(port, (r) => r.call('CLUSTER', 'NODES'))));
      } catch {
        // that node is going: ask the next
      }
    }
    throw new Error('no node of the cluster answers');
  };
  /** Every live node: cluster_state:ok, all slots served by live masters; every replica in sync. */
  const healthy = async () => {
    for (const port of live()) {
      const ok = await nodeCall(port, async (r) => {
        const info = String(await r.call('CLUSTER', 'INFO'));
        if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
        const replication = await r.info('replication');
        return !/role:slave/.test(replication) || /master_link_status:up/.test(replication);
      });
      if (!ok) return false;
    }
    return true;
  };
  try {
    for (let i = 0; i < 6; i++) ports.push(await freePort());
    await Promise.all(
      ports.map(async (port) => {
        const child = await launch(
          server,
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--dir',
            dir,
            '--save',
            '',
            '--appendonly',
            'no',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '1000',
          ],
          /Ready to accept connections/,
        );
        children.set(port, child);
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const create = spawn(
        cli,
        ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      running.add(create);
      let out = '';
      create.stdout.on('data', (c: Buffer) => (out += c.toString()));
      create.stderr.on('data', (c: Buffer) => (out += c.toString()));
      create.once('exit', (code) => {
        running.delete(create);
        if (code === 0) resolve();
        else reject(new Error(`redis-cli --cluster create exited with ${code}: ${out}`));
      });
    });
    await waitUntil('every slot served and every replica in sync', healthy, 60_000);
  } catch (err) {
    await close();
    throw err;
  }

  const pick = async (masterPort?: number) => {
    const all = await nodes();
    const master = all.find((n) => n.role === 'master' && !n.failed && (masterPort ?? n.port) === n.port);
    if (!master) throw new Error(`redis cluster: no master on port ${masterPort}`);
    const replica = all.find((n) => n.role === 'replica' && !n.failed && n.masterId === master.id);
    if (!replica) throw new Error(`redis cluster: master ${master.port} has no replica`);
    return { master, replica };
  };
  const promoted = (masterId: string, replicaPort: number) => async () => {
    const all = await nodes();
    const replica = all.find((n) => n.port === replicaPort);
    return replica?.role === 'master' && all.every((n) => n.id !== masterId || n.role === 'replica' || n.failed);
  };

  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    nodes,
    async masterFor(key) {
      const slot = Number(await nodeCall(live()[0] ?? 0, (r) => r.call('CLUSTER', 'KEYSLOT', key)));
      const master = (await nodes()).find(
        (n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b),
      );
      if (!master) throw new Error(`redis cluster: no master serves slot ${slot}`);
      return master.port;
    },
    async failover(masterPort) {
      const { master, replica } = await pick(masterPort);
      await nodeCall(replica.port, (r) => r.call('CLUSTER', 'FAILOVER'));
      await waitUntil(`${replica.port} takes over from ${master.port}`, promoted(master.id, replica.port));
      await waitUntil('every slot served after the failover', healthy);
      return { from: master.port, to: replica.port };
    },
    async killMaster(masterPort) {
      const { master, replica } = await pick(masterPort);
      const child = children.get(master.port);
      children.delete(master.port);
      if (child && child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((r) => {
          child.once('exit', () => r());
          child.kill('SIGKILL');
        });
      }
      await waitUntil(`${replica.port} promoted after ${master.port} was killed`, promoted(master.id, replica.port));
      await waitUntil('every slot served after the kill', healthy);
      return { killed: master.port, promoted: replica.port };
    },
    close,
  };
}

/**
 * A Redis for one test file: a private redis-server of its own, or, where REDIS_URL names a Redis
 * Cluster (the redis-cluster test project), that cluster, which the project empties before each
 * file. A cluster is not the file's to stop: its stop() and start() throw.
 */
export async function startFileRedis(): Promise<PrivateServer> {
  const shared = process.env.REDIS_URL ?? '';
  if (!isRedisClusterUrl(shared)) return startPrivateRedis();
  const refuse = () => Promise.reject(new Error('a test on the Redis Cluster cannot stop or start it'));
  return { url: shared, authUrl: shared, port: 0, stop: refuse, start: refuse, close: () => Promise.resolve() };
}
