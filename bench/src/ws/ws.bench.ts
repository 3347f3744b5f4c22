// ws: N sockets on one api replica, events published on NATS at a steady rate through the
// notifier (NATS → notifier → Redis stream + publish → gateway → sockets), against a bare `ws`
// server that takes the same events from NATS and broadcasts them to the same number of sockets.
// Each side runs in its own process; the load generator in another; all on the same cores.
import { execSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createLogger, createNats } from '@ratewire/runtime';
import { createTestDatabase, freePort, spawnApp, sleep } from '@ratewire/testkit';

import { percentile, type Benchmark, type Figure } from '../harness.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const GOAL_SOCKETS = 15_000;
const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

interface Side {
  mode: 'ours' | 'bare';
  subject: string;
  server: ChildProcess;
  clients: ChildProcess;
  bytesPerSocket: number;
}

interface Window {
  deliveries: number;
  latencies: number[];
  seconds: number;
  offered: number;
  serverCpuMs: number;
  clientCpuMs: number;
  open: number;
}

/** Waits for the first IPC message that has `key`. */
function reply<T>(child: ChildProcess, key: string, timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${key} from child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (msg: Record<string, unknown>) => {
      if ('error' in msg) {
        clearTimeout(timer);
        child.off('message', onMessage);
        reject(new Error(String(msg.error)));
      } else if (key in msg) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(msg as T);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before ${key}`)));
  });
}

function launch(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (ready.test(out)) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out}`)));
  });
}

/** Starts one side's server and load generator and connects (and subscribes) every socket. */
async function startSide(
  mode: 'ours' | 'bare',
  env: Record<string, string>,
  sockets: number,
  sources: string[],
  children: ChildProcess[],
): Promise<Side> {
  const server = fork(join(HERE, 'ws-server.ts'), [mode], {
    env: { ...process.env, ...env },
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const clients = fork(join(HERE, 'ws-clients.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(server, clients);
  const { port } = await reply<{ port: number }>(server, 'ready');
  await reply(clients, 'ready');
  await sleep(500);
  server.send({ cmd: 'mem' });
  const before = (await reply<{ mem: NodeJS.MemoryUsage }>(server, 'mem')).mem;
  clients.send({
    cmd: 'connect',
    url: `ws://127.0.0.1:${port}${mode === 'ours' ? '/ws' : '/'}`,
    sockets,
    subscribe: mode === 'ours' ? 'rates.binance' : null,
    sources,
    sampleEvery: 10,
  });
  await reply(clients, 'connected');
  await sleep(1000);
  server.send({ cmd: 'mem' });
  const after = (await reply<{ mem: NodeJS.MemoryUsage }>(server, 'mem')).mem;
  return {
    mode,
    subject: mode === 'ours' ? 'rates.binance.updated' : 'bench.bare.rates',
    server,
    clients,
    bytesPerSocket: (after.rss - before.rss) / sockets,
  };
}

/** One measured stretch on one side: steady publishing, deliveries and latency counted. */
async function measure(
  side: Side,
  publish: (subject: string) => void,
  cfg: { sockets: number; rate: number; seconds: number },
): Promise<Window> {
  const timer = setInterval(() => publish(side.subject), 1000 / cfg.rate);
  try {
    await sleep(1000); // warm-up: not counted
    side.clients.send({ cmd: 'start' });
    await reply(side.clients, 'started');
    side.server.send({ cmd: 'cpu' });
    const cpu0 = (await reply<{ cpuMs: number }>(side.server, 'cpuMs')).cpuMs;
    await sleep(cfg.seconds * 1000);
    clearInterval(timer);
    await sleep(1000); // frames in flight still count
    side.clients.send({ cmd: 'stop' });
    const stats = await reply<{ deliveries: number; latencies: number[]; open: number; cpuMs: number }>(
      side.clients,
      'deliveries',
    );
    side.server.send({ cmd: 'cpu' });
    const cpu1 = (await reply<{ cpuMs: number }>(side.server, 'cpuMs')).cpuMs;
    // frames published while counting, over the time they were published (in-flight ones land in the
    // extra second; those of the warm-up still arriving at the start make up for the ones cut at the end)
    const seconds = cfg.seconds;
    await sleep(2000); // let any backlog drain before the other side runs
    return {
      deliveries: stats.deliveries,
      latencies: stats.latencies,
      seconds,
      offered: cfg.rate * cfg.sockets * cfg.seconds,
      serverCpuMs: cpu1 - cpu0,
      clientCpuMs: stats.cpuMs,
      open: stats.open,
    };
  } finally {
    clearInterval(timer);
  }
}

function summarize(windows: Window[]) {
  const seconds = windows.reduce((a, w) => a + w.seconds, 0);
  const latencies = windows.flatMap((w) => w.latencies);
  return {
    perSec: windows.reduce((a, w) => a + w.deliveries, 0) / seconds,
    offeredPerSec: windows.reduce((a, w) => a + w.offered, 0) / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    serverCpu: windows.reduce((a, w) => a + w.serverCpuMs, 0) / (seconds * 10),
    clientCpu: windows.reduce((a, w) => a + w.clientCpuMs, 0) / (seconds * 10),
    open: windows.at(-1)?.open ?? 0,
  };
}

export const wsBench: Benchmark = {
  name: 'ws',
  description: 'sockets on one api replica fed through NATS → notifier → Redis, against a bare ws broadcast',
  async run() {
    const limit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
    // each side holds one descriptor per socket plus a few hundred of its own
    const sockets = Math.min(num('BENCH_WS_SOCKETS', GOAL_SOCKETS), Math.max(100, limit - 1000));
    const rate = num('BENCH_WS_RATE', 4);
    const seconds = num('BENCH_WS_SECONDS', 6);
    const rounds = num('BENCH_WS_ROUNDS', 3);
    process.stdout.write(
      `  ${sockets} sockets per side (open-file limit ${limit}), ${rate} events/s → ${sockets * rate} deliveries/s offered\n`,
    );

    const redisPort = await freePort();
    const natsPort = await freePort();
    const natsDir = mkdtempSync(join(tmpdir(), 'rw-bench-nats-'));
    const redisServer = await launch(
      '/usr/bin/redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      /Ready to accept connections/,
    );
    const natsServer = await launch(
      '/usr/sbin/nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', natsDir],
      /Server is ready/,
    );
    const database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
    };
    const notifier = spawnApp('notifier', { ...env, HEALTH_PORT: '0', LOG_LEVEL: 'info' });
    const nc = await createNats([env.NATS_URL], createLogger('bench', 'warn'), 'bench-publisher');
    const children: ChildProcess[] = [];
    try {
      await notifier.waitForLine(/"msg":"notifier started"/, 30_000);
      // the publish time travels in the price (a decimal string): clients subtract it on arrival
      const publish = (subject: string) => {
        const at = (performance.timeOrigin + performance.now()).toFixed(3);
        nc.publish(
          subject,
          JSON.stringify({
            ts: new Date().toISOString(),
            changed: [{ symbol: 'BENCHUSDT', price: at, previous: null }],
          }),
        );
      };
      const cfg = { sockets, rate, seconds };
      // both sides stay connected; measured in alternating windows so that whatever else the
      // machine does weighs on both alike
      const sides = [
        await startSide('ours', env, sockets, ['127.0.1.1', '127.0.1.2'], children),
        await startSide('bare', env, sockets, ['127.0.2.1', '127.0.2.2'], children),
      ];
      const windows: Record<'ours' | 'bare', Window[]> = { ours: [], bare: [] };
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) windows[side.mode].push(await measure(side, publish, cfg));
      }
      const ours = { ...summarize(windows.ours), bytesPerSocket: sides[0]!.bytesPerSocket };
      const bare = { ...summarize(windows.bare), bytesPerSocket: sides[1]!.bytesPerSocket };
      const note = `${sockets} sockets, ${rate} events/s, ${rounds}×${seconds} s windows each`;
      const figures: Figure[] = [
        {
          metric: 'deliveries/s',
          ours: ours.perSec,
          baseline: bare.perSec,
          higherIsBetter: true,
          unit: 'frames/s',
          goal: 0.6,
          note: `${note}; offered ${Math.round(ours.offeredPerSec)}/s; goal also ≥ 50,000/s`,
        },
        { metric: 'event → client p50', ours: ours.p50, baseline: bare.p50, higherIsBetter: false, unit: 'ms' },
        {
          metric: 'event → client p99',
          ours: ours.p99,
          baseline: bare.p99,
          higherIsBetter: false,
          unit: 'ms',
          goal: 0.667,
          note: 'goal: ≤ 1.5× bare (stretch ≤ 50 ms)',
        },
        {
          metric: 'process memory per socket',
          ours: ours.bytesPerSocket / 1024,
          baseline: bare.bytesPerSocket / 1024,
          higherIsBetter: false,
          unit: 'KiB',
          note: 'RSS growth / sockets; goal ≤ 16 KB',
        },
        {
          metric: 'server CPU while measured',
          ours: ours.serverCpu,
          baseline: bare.serverCpu,
          higherIsBetter: false,
          unit: '% core',
          note: `load generator: ours ${ours.clientCpu.toFixed(0)}%, bare ${bare.clientCpu.toFixed(0)}% of a core`,
        },
        {
          metric: 'sockets still open at the end',
          ours: ours.open,
          baseline: bare.open,
          higherIsBetter: true,
          unit: 'sockets',
        },
      ];
      return { name: 'ws', baselineName: 'bare ws broadcast (NATS → ws.send per socket)', figures };
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await nc.drain().catch(() => {});
      notifier.child.kill('SIGTERM');
      await notifier.exited;
      redisServer.kill('SIGKILL');
      natsServer.kill('SIGKILL');
      await database.drop();
      rmSync(natsDir, { recursive: true, force: true });
    }
  },
};
