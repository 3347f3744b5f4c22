// Memory soak (a benchmark, not a test): api, worker and notifier as real processes over a database,
// Redis and NATS of the soak's own (Postgres from DATABASE_URL, the feeds from the replay server),
// mixed traffic for SOAK_MINUTES (default 60), each process's RSS (and the api's heap) sampled every
// SOAK_SAMPLE_SECONDS (default 30), then a table and the growth after SOAK_WARMUP_MINUTES (default
// 5, at most a third of the run). SOAK_HEAP_SNAPSHOTS=1 writes a heap snapshot of each process after
// the warm-up and at the end (into bench/results/heap/) for comparison in Chrome DevTools.
//   node bench/src/soak/main.ts        (or: pnpm --filter @ratewire/bench soak)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createLogger, createNats, createRedis } from '@ratewire/runtime';
import { createTestDatabase, freePort, spawnApp, startReplayServer, type AppProcess } from '@ratewire/testkit';
import { startPrivateNats, startPrivateRedis } from '@ratewire/testkit/private-servers';

import { formatGrowth, formatSamples, growth, heapFromMetrics, rssMb, type Sample } from './memory.ts';
import { Traffic } from './traffic.ts';

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return v;
};

const MINUTES = num('SOAK_MINUTES', 60);
const SAMPLE_SECONDS = num('SOAK_SAMPLE_SECONDS', 30);
const WARMUP_SECONDS = Math.min(num('SOAK_WARMUP_MINUTES', 5) * 60, (MINUTES * 60) / 3);
const SNAPSHOTS = process.env.SOAK_HEAP_SNAPSHOTS === '1';
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results');
const HEAP_DIR = join(RESULTS, 'heap');
const ADMIN_EMAIL = 'soak-admin@example.test';
const ADMIN_PASSWORD = 'soak-admin-password';
const METRICS_TOKEN = 'soak-metrics-token-0123456789';

const out = (line: string) => process.stdout.write(`${line}\n`);
const log = createLogger('soak', 'silent');

const [database, redisServer, natsServer, replay] = await Promise.all([
  createTestDatabase(),
  startPrivateRedis(),
  startPrivateNats(),
  startReplayServer(),
]);
const [apiPort, workerPort, notifierPort] = await Promise.all([freePort(), freePort(), freePort()]);
const common = {
  DATABASE_URL: database.url,
  REDIS_URL: redisServer.url,
  NATS_URL: natsServer.url,
  LOG_LEVEL: 'warn',
  CBR_BASE_URL: replay.url,
  BINANCE_BASE_URL: replay.url,
  // a heap snapshot on SIGUSR2, written where the soak keeps its results
  NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${HEAP_DIR}`,
};
mkdirSync(HEAP_DIR, { recursive: true });
const procs: Record<string, AppProcess> = {
  api: spawnApp('api', {
    ...common,
    PORT: String(apiPort),
    LOG_LEVEL: 'info',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    TRUST_PROXY: 'true',
    METRICS_TOKEN,
  }),
  worker: spawnApp('worker', {
    ...common,
    HEALTH_PORT: String(workerPort),
    LOG_LEVEL: 'info',
    CBR_POLL_INTERVAL_MS: '60000',
    BINANCE_POLL_INTERVAL_MS: '10000',
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
  }),
  notifier: spawnApp('notifier', { ...common, HEALTH_PORT: String(notifierPort), LOG_LEVEL: 'info' }),
};
const apiUrl = `http://127.0.0.1:${apiPort}`;
const nats = await createNats([natsServer.url], log, 'soak');
const redis = createRedis(redisServer.url, log, 'soak');
const traffic = new Traffic({ apiUrl, nats, redis, adminEmail: ADMIN_EMAIL, adminPassword: ADMIN_PASSWORD });
const samples: Sample[] = [];

async function apiHeap(): Promise<Record<string, number | null>> {
  try {
    const res = await traffic.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    if (res.status !== 200) return { api: null, 'api ext': null };
    return { api: heapFromMetrics(res.text), 'api ext': heapFromMetrics(res.text, 'nodejs_external_memory_bytes') };
  } catch {
    return { api: null, 'api ext': null };
  }
}

async function sample(startedAt: number): Promise<Sample> {
  const s: Sample = {
    at: (Date.now() - startedAt) / 1000,
    rssMb: Object.fromEntries(Object.entries(procs).map(([app, p]) => [app, rssMb(p.child.pid!)])),
    heapMb: await apiHeap(),
  };
  samples.push(s);
  return s;
}

function snapshot(label: string): void {
  for (const [app, p] of Object.entries(procs)) {
    p.child.kill('SIGUSR2');
    out(`heap snapshot (${label}) of ${app}, pid ${p.child.pid}, requested into ${HEAP_DIR}`);
  }
}

let exitCode = 0;
try {
  await procs.api!.waitForLine(/"msg":"api listening"/, 60_000);
  await procs.worker!.waitForLine(/"msg":"consuming exchange jobs"/, 60_000);
  await procs.notifier!.waitForLine(/"msg":"notifier started"/, 60_000);
  await traffic.setup();
  out(`soak: ${MINUTES} min of mixed traffic, RSS every ${SAMPLE_SECONDS} s, warm-up ${WARMUP_SECONDS / 60} min`);
  const startedAt = Date.now();
  const deadline = startedAt + MINUTES * 60_000;
  let snappedWarm = false;
  const first = await sample(startedAt);
  out(formatSamples([first]));
  const sampler = setInterval(() => {
    void sample(startedAt).then((s) => {
      out(formatSamples([s]).split('\n')[1]!);
      // the replay server's request log and the processes' captured output grow with traffic here
      replay.reset();
      for (const p of Object.values(procs)) p.output.splice(0, Math.max(0, p.output.length - 200));
      if (SNAPSHOTS && !snappedWarm && s.at >= WARMUP_SECONDS) {
        snappedWarm = true;
        snapshot('after warm-up');
      }
      for (const [app, p] of Object.entries(procs)) {
        if (p.child.exitCode !== null)
          out(`!! ${app} exited with ${p.child.exitCode}:\n${p.output.slice(-20).join('\n')}`);
      }
    });
  }, SAMPLE_SECONDS * 1000);
  await traffic.run(deadline);
  clearInterval(sampler);
  await sample(startedAt);
  if (SNAPSHOTS) {
    snapshot('end');
    await new Promise((r) => setTimeout(r, 20_000));
  }

  out('');
  out(formatSamples(samples));
  out('');
  out(formatGrowth('RSS', growth(samples, WARMUP_SECONDS, 'rssMb'), WARMUP_SECONDS));
  out(formatGrowth('heap used', growth(samples, WARMUP_SECONDS, 'heapMb'), WARMUP_SECONDS));
  out('');
  out('traffic (sent, answers by class, errors):');
  for (const [loop, s] of Object.entries(traffic.stats)) {
    out(`  ${loop.padEnd(8)} ${String(s.sent).padStart(8)}  ${JSON.stringify(s.byClass)}  errors ${s.errors}`);
    for (const [what, n] of Object.entries(s.serverErrors)) out(`    ${n} × ${what}`);
  }
  const file = join(RESULTS, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        minutes: MINUTES,
        warmupSeconds: WARMUP_SECONDS,
        samples,
        rss: growth(samples, WARMUP_SECONDS, 'rssMb'),
        heap: growth(samples, WARMUP_SECONDS, 'heapMb'),
        traffic: traffic.stats,
      },
      null,
      2,
    ),
  );
  out(`\nsamples saved to ${file}`);
} catch (err) {
  exitCode = 1;
  out(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
  for (const [app, p] of Object.entries(procs)) out(`--- ${app}\n${p.output.slice(-30).join('\n')}`);
} finally {
  traffic.close();
  for (const p of Object.values(procs)) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(Object.values(procs).map((p) => p.exited));
  await nats.drain().catch(() => {});
  redis.disconnect();
  await replay.close();
  await redisServer.close();
  await natsServer.close();
  await database.drop();
}
process.exit(exitCode);
