// A rolling restart with no gap: three api processes behind the local multi-replica mode's nginx
// (scripts/bootstrap/nginx.ts), a notifier bridging NATS to Redis, a thousand live sessions
// (packages/client LiveSession, the console's and the CLI's) on one channel fed a few events a
// second the production way (NATS → notifier → Redis → each replica's gateway), and several loops
// of REST reads through nginx. The replicas are restarted one after the other (SIGTERM, exit, start
// again on the same port, ready). Every session must deliver exactly the channel's history — no
// frame lost, none twice — and be live at the end, and no read may fail.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SUBJECTS, wsRedis } from '@ratewire/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LiveSession, type LiveState } from '../../packages/client/src/live-session.ts';
import { createLogger, createNats, createRedis, type NatsConnection } from '../../packages/runtime/src/index.ts';
import {
  createTestDatabase,
  freePort,
  spawnApp,
  type AppProcess,
  type TestDatabase,
} from '../../packages/testkit/src/index.ts';
import { startPrivateNats, startPrivateRedis, type PrivateServer } from '../../packages/testkit/src/private-servers.ts';
import { ensureNginx, startNginx } from '../../scripts/bootstrap/nginx.ts';

const REPLICAS = 3;
const CLIENTS = 1000;
/** Events published on the channel per second, all through the run. */
const EVENTS_PER_SECOND = 5;
/** Concurrent loops of GET requests through nginx. */
const READ_LOOPS = 6;
/** Each stopping replica says `draining` this long while still serving. */
const DRAIN_MS = 1000;
const SYMBOL = 'ROLLUSDT';
const CHANNEL = `rates.binance:${SYMBOL}`;
const READS = ['/api/v1/currencies', '/api/v1/currencies?limit=5', '/api/v1/currencies?offset=1'];
/** Pause between two reads of one loop (keeps the CPU for the sockets). */
const READ_PAUSE_MS = 20;

interface Client {
  session: LiveSession;
  /** Event ids as they came off the wire, every connection's, before the session's own checks. */
  wire: string[];
  /** Ids and event numbers delivered, in order. */
  ids: string[];
  numbers: number[];
  state: LiveState;
  /** Connections opened after the first. */
  reconnects: number;
  /** `reconnecting` states: connections that ended in a way a user would be told of. */
  problems: string[];
}

let database: TestDatabase;
let redisServer: PrivateServer;
let natsServer: PrivateServer;
let nginx: { url: string; stop(): Promise<void> } | undefined;
let nginxDir: string;
let nc: NatsConnection;
let notifier: AppProcess | undefined;
const apis: (AppProcess | undefined)[] = [];
const ports: number[] = [];
let env: Record<string, string>;
const clients: Client[] = [];
const stop = new AbortController();
/** Set once every assertion held; otherwise nginx's error log is printed before its directory goes. */
let passed = false;

// The sessions' sockets, counted as they arrive: a session drops a frame whose id it has delivered
// already, so a repeat sent by a replica would not show in what it delivers. Each session's socket
// URL names it (the gateway reads only `token` from the query).
const NativeWebSocket = globalThis.WebSocket;
class CountingWebSocket extends NativeWebSocket {
  constructor(url: string | URL, protocols?: ConstructorParameters<typeof NativeWebSocket>[1]) {
    super(url, protocols);
    const client = clients[Number(new URL(String(url)).searchParams.get('client'))];
    this.addEventListener('message', (msg: MessageEvent) => {
      const frame = JSON.parse(String(msg.data)) as { type: string; id?: string };
      if (frame.type === 'event' && frame.id) client?.wire.push(frame.id);
    });
  }
}

const ready = (proc: AppProcess) => proc.waitForLine(/"msg":"api listening"/, 60_000);
const alive = (proc: AppProcess | undefined): proc is AppProcess =>
  proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
// a test run that dies leaves no api or notifier behind
const killAll = () => {
  for (const proc of [...apis, notifier]) if (alive(proc)) proc.child.kill('SIGKILL');
};

async function startApi(i: number): Promise<AppProcess> {
  const proc = spawnApp('api', { ...env, PORT: String(ports[i]) });
  apis[i] = proc;
  await ready(proc);
  return proc;
}

/** Polls until `check` is true; `what` names it in the timeout's error. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  process.on('exit', killAll);
  globalThis.WebSocket = CountingWebSocket;
  ensureNginx((msg) => console.log(`[nginx] ${msg}`));
  [database, redisServer, natsServer] = await Promise.all([
    createTestDatabase(),
    startPrivateRedis(),
    startPrivateNats(),
  ]);
  for (let i = 0; i < REPLICAS; i++) ports.push(await freePort());
  env = {
    DATABASE_URL: database.url,
    REDIS_URL: redisServer.url,
    NATS_URL: natsServer.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    // every socket reaches the replicas from nginx, one address
    WS_MAX_CONNECTIONS_PER_IP: String(CLIENTS * 2),
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
  };
  notifier = spawnApp('notifier', {
    REDIS_URL: redisServer.url,
    NATS_URL: natsServer.url,
    HEALTH_PORT: '0',
    // the channel's whole history stays, to compare every session with
    WS_HISTORY_MAX_AGE_MS: '600000',
  });
  await notifier.waitForLine(/"msg":"notifier started"/, 60_000);
  await Promise.all(ports.map((_, i) => startApi(i)));
  nginxDir = mkdtempSync(join(tmpdir(), 'rw-rolling-nginx-'));
  nginx = await startNginx({ port: await freePort(), upstreams: ports.map((p) => `127.0.0.1:${p}`), dir: nginxDir });
  nc = await createNats([natsServer.url], createLogger('rolling-restart', 'silent'), 'rolling-restart');
});

afterAll(async () => {
  stop.abort();
  for (const c of clients) c.session.close();
  await Promise.all(clients.map((c) => c.session.done.catch(() => undefined)));
  await nginx?.stop();
  await Promise.all(
    [...apis, notifier].filter(alive).map((proc) => {
      proc.child.kill('SIGTERM');
      return proc.exited;
    }),
  );
  await nc?.drain().catch(() => undefined);
  await Promise.all([redisServer?.close(), natsServer?.close(), database?.drop()]);
  const errorLog = nginxDir ? join(nginxDir, 'logs', 'error.log') : '';
  if (!passed && errorLog && existsSync(errorLog)) {
    const lines = readFileSync(errorLog, 'utf8').trim().split('\n');
    const noLive = lines.filter((l) => l.includes('no live upstreams'));
    console.log(`nginx error log: ${noLive.length} lines "no live upstreams" (first: ${noLive[0]?.slice(0, 19)})`);
    console.log(
      lines
        .filter((l) => !l.includes('no live upstreams'))
        .slice(-40)
        .join('\n'),
    );
  }
  if (nginxDir) rmSync(nginxDir, { recursive: true, force: true });
  process.off('exit', killAll);
  globalThis.WebSocket = NativeWebSocket;
});

function openClient(baseUrl: string, index: number): Client {
  const client: Client = {
    wire: [],
    ids: [],
    numbers: [],
    state: 'connecting',
    reconnects: -1,
    problems: [],
    session: undefined as unknown as LiveSession,
  };
  client.session = new LiveSession({
    baseUrl,
    webSocketUrl: `${baseUrl.replace(/^http/, 'ws')}/ws?client=${index}`,
    channels: [CHANNEL],
    signal: stop.signal,
    handlers: {
      event(frame) {
        client.ids.push(frame.id);
        client.numbers.push(Number((frame.data as { price: string }).price.split('.')[0]));
      },
      state(state, detail) {
        client.state = state;
        if (state === 'connecting') client.reconnects++;
        if (state === 'reconnecting') client.problems.push(detail);
      },
    },
  });
  return client;
}

describe('rolling restart of the api behind nginx', () => {
  it('loses and repeats no frame for any of 1,000 sessions and fails no request', async () => {
    const base = nginx!.url;
    for (let i = 0; i < CLIENTS; i += 100) {
      for (let j = i; j < Math.min(CLIENTS, i + 100); j++) clients.push(openClient(base, j));
      await until(() => clients.every((c) => c.state === 'live'), `${clients.length} sessions live`);
    }

    // the channel's events: n = 1, 2, … as the price's whole part
    let published = 0;
    const publishOne = () => {
      published++;
      const price = `${published}.00000000`;
      const event = { ts: new Date().toISOString(), changed: [{ symbol: SYMBOL, price, previous: null }] };
      nc.publish(SUBJECTS.ratesBinanceUpdated, JSON.stringify(event));
    };
    const publisher = setInterval(publishOne, 1000 / EVENTS_PER_SECOND);

    // reads through nginx, back to back in each loop
    let requests = 0;
    const failures: string[] = [];
    let reading = true;
    const loops = Array.from({ length: READ_LOOPS }, async (_, loop) => {
      for (let k = 0; reading; k++) {
        const path = READS[(loop + k) % READS.length]!;
        requests++;
        try {
          const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          if (res.status < 200 || res.status > 299) failures.push(`${path}: ${res.status}`);
        } catch (err) {
          failures.push(`${path}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, READ_PAUSE_MS));
      }
    });

    try {
      // steady state first: every session has frames before anything restarts
      await until(() => published >= 10 && clients.every((c) => c.numbers.length >= 5), 'frames on every session');
      const restartMs: number[] = [];
      for (let i = 0; i < REPLICAS; i++) {
        const started = Date.now();
        const old = apis[i]!;
        old.child.kill('SIGTERM');
        expect(await old.exited).toBe(0);
        const fresh = await startApi(i);
        await until(async () => {
          const res = await fetch(`http://127.0.0.1:${ports[i]}/readyz`).catch(() => null);
          return res?.status === 200;
        }, `replica ${i} ready`);
        restartMs.push(Date.now() - started);
        // the next replica stops as soon as this one is ready: nginx never takes one out (max_fails=0)
        expect(old.output.some((l) => l.includes('"msg":"draining: /readyz answers 503'))).toBe(true);
        expect(fresh.output.some((l) => /"level":"(error|fatal)"/.test(l))).toBe(false);
        // the sessions settle (every one live again) before the next replica goes
        await until(() => clients.every((c) => c.state === 'live'), `every session live after replica ${i}`);
      }
      // a little more traffic on the restarted replicas
      const last = published;
      await until(() => published >= last + 2 * EVENTS_PER_SECOND, 'events after the restarts');
      clearInterval(publisher);
      reading = false;
      await Promise.all(loops);
      await until(() => clients.every((c) => c.numbers.length >= published), 'every frame on every session');
      // nothing arrives after the last one: a repeat would show here
      await new Promise((r) => setTimeout(r, 500));

      const redis = createRedis(redisServer.url, createLogger('rolling-restart', 'silent'), 'rolling-restart');
      const history = (await redis.xrange(wsRedis.streamKey(CHANNEL), '-', '+')).map(([id]) => id);
      redis.disconnect();
      const expected = Array.from({ length: published }, (_, k) => k + 1);

      let lost = 0;
      let repeated = 0;
      let repeatedOnWire = 0;
      for (const c of clients) {
        const distinct = new Set(c.numbers);
        lost += expected.filter((n) => !distinct.has(n)).length;
        repeated += c.numbers.length - distinct.size;
        repeatedOnWire += c.wire.length - new Set(c.wire).size;
      }
      const reconnects = clients.reduce((sum, c) => sum + c.reconnects, 0);
      const problems = clients.flatMap((c) => c.problems);
      console.log(`[measure] frames published ${published} to ${CLIENTS} sessions (${published * CLIENTS} deliveries)`);
      console.log(`[measure] frames lost ${lost}, repeated ${repeated} (sent twice by a replica: ${repeatedOnWire})`);
      console.log(`[measure] HTTP requests through nginx ${requests}, failed ${failures.length}`);
      console.log(`[measure] replica restart (SIGTERM → ready) ms: ${restartMs.join(', ')}`);
      console.log(
        `[measure] reconnects ${reconnects} (${(reconnects / CLIENTS).toFixed(2)} per session), with a back-off ${problems.length}`,
      );

      expect(failures).toEqual([]);
      expect({ lost, repeated, repeatedOnWire }).toEqual({ lost: 0, repeated: 0, repeatedOnWire: 0 });
      expect(history).toHaveLength(published);
      for (const c of clients) {
        expect(c.numbers).toEqual(expected);
        expect(c.ids).toEqual(history);
        expect(c.state).toBe('live');
      }
      // each session moved once for each replica it was on when that one stopped, and never backed off
      expect(reconnects).toBeGreaterThanOrEqual(CLIENTS);
      expect(problems).toEqual([]);
      passed = true;
    } finally {
      clearInterval(publisher);
      reading = false;
      await Promise.all(loops);
    }
  });
});
