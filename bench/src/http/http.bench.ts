// Hot REST reads against the framework's and the runtime's ceilings, measured in one run with one
// load tool (wrk, 64 connections, the same duration for every target, one after another):
//   ours    — the api as a real process (every middleware: request ids, metrics, helmet, body
//             parsers, auth parsing, routing, validation, the response cache), over a database
//             holding the 2,519 symbols of the largest Binance fixture;
//   express — a minimal Express 5 app sending the same bytes (`res.send`, default settings);
//   bare    — a node:http server sending the same bytes;
//   ours with an API key — the same api and reads, each request sent with `X-API-Key` (a key with
//             the `read` scope, under a limit it never reaches): the key is checked, a token taken
//             from the process's lease of the Redis bucket and RateLimit-* added to each answer.
// Routes: GET /api/v1/rates/binance (every symbol) and GET /api/v1/rates/binance/BTCUSDT.
// Goals: ≥ 0.9× minimal Express in req/s on both routes, p99 ≤ 20 ms; reads with an API key ≥ 0.9×
// the same reads sent anonymously; the ratio to bare is reported.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { sql } from 'kysely';

import { generateApiKey, insertApiKey } from '@ratewire/db';
import { REPO_ROOT, createTestDatabase, freePort, spawnApp } from '@ratewire/testkit';
import { startPrivateNats } from '@ratewire/testkit/private-servers';
import { fixturePath } from '@ratewire/testkit/replay/fixtures';

import type { Benchmark, BenchResult, Figure } from '../harness.ts';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURE = fixturePath('binance/ticker_24hr_johnthotekat-onchain-monitor.json');
const CONNECTIONS = 64;
const DURATION_S = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const WARMUP_S = 3;
const P99_GOAL_MS = 20;

const ROUTES = [
  { name: 'all symbols', path: '/api/v1/rates/binance' },
  { name: 'one symbol', path: '/api/v1/rates/binance/BTCUSDT' },
] as const;

interface Load {
  rps: number;
  p99Ms: number;
  errors: number;
  requests: number;
  /** Server CPU time per request (user + system): robust to a busy machine, unlike req/s. */
  cpuUsPerRequest: number;
}

/** Loads measured in parts, as one: requests and CPU summed, the worst p99. */
function combine(parts: Load[], seconds: number): Load {
  const requests = parts.reduce((n, l) => n + l.requests, 0);
  return {
    rps: requests / seconds,
    p99Ms: Math.max(...parts.map((l) => l.p99Ms)),
    errors: parts.reduce((n, l) => n + l.errors, 0),
    requests,
    cpuUsPerRequest: parts.reduce((n, l) => n + l.cpuUsPerRequest * l.requests, 0) / requests,
  };
}

/** utime + stime of a process in microseconds (Linux /proc; clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

async function wrk(url: string, seconds: number, pid: number, headers: Record<string, string> = {}): Promise<Load> {
  const threads = 2;
  const cpuBefore = cpuMicros(pid);
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const args = [`-t${threads}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...headerArgs, url];
  const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p99 = /\n\s+99%\s+(\S+)/.exec(stdout)?.[1] ?? '';
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  if (!Number.isFinite(rps) || !requests) throw new Error(`could not read wrk's output:\n${stdout}`);
  const cpuUsPerRequest = (cpuMicros(pid) - cpuBefore) / requests;
  return { rps, p99Ms: toMs(p99), errors, requests, cpuUsPerRequest };
}

async function wrkAvailable(): Promise<boolean> {
  try {
    await run('wrk', ['--version']);
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version
    return /wrk/.test(String((err as { stdout?: string }).stdout ?? ''));
  }
}

function startBaseline(kind: 'express' | 'bare', port: number, files: Record<string, string>): Promise<ChildProcess> {
  const args = [
    join(HERE, 'baseline-server.ts'),
    kind,
    String(port),
    ...Object.entries(files).map(([p, f]) => `${p}=${f}`),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(REPO_ROOT, 'bench') });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} baseline did not start`)), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} baseline exited with ${code}`)));
  });
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const res = await fetch(url, { headers: { 'accept-encoding': 'identity', ...headers } });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  if (headers['x-api-key'] && !res.headers.get('ratelimit-remaining')) throw new Error(`${url}: no RateLimit-*`);
  return Buffer.from(await res.arrayBuffer());
}

/** A user and a key with the `read` scope, stored as the api stores them. */
async function readKey(db: Parameters<typeof insertApiKey>[0]): Promise<string> {
  const user = await db
    .insertInto('users')
    .values({ email: 'bench@bench.test', name: null, password_hash: 'x' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const secret = generateApiKey();
  const row = await insertApiKey(
    db,
    { ...secret, userId: user.id, name: 'bench', scopes: ['read'], expiresAt: null },
    1,
  );
  if (typeof row === 'string') throw new Error(`could not store the bench key: ${row}`);
  return secret.key;
}

export const httpBench: Benchmark = {
  name: 'http',
  description:
    `GET /api/v1/rates/binance (2,519 symbols) and /BTCUSDT: the api vs a minimal Express 5 app and a bare ` +
    `node:http server sending the same bytes (wrk, ${CONNECTIONS} connections, ${DURATION_S} s each)`,
  async run(): Promise<BenchResult> {
    if (!(await wrkAvailable())) throw new Error('wrk is not installed (apt-get install -y wrk)');
    const tickers = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { symbol: string; lastPrice: string }[];
    const database = await createTestDatabase();
    const nats = await startPrivateNats();
    const tmp = mkdtempSync(join(tmpdir(), 'rw-http-bench-'));
    const procs: ChildProcess[] = [];
    try {
      await sql`
        insert into binance_prices (symbol, price, updated_at)
        select s, p, now() from unnest(${tickers.map((t) => t.symbol)}::text[], ${tickers.map((t) => t.lastPrice)}::numeric[]) as t(s, p)
      `.execute(database.db);
      // every symbol trades, so the list read answers all of them (halted ones would be left out)
      await sql`
        insert into binance_symbols (symbol, base_asset, quote_asset, status)
        select s, s, '', 'TRADING' from unnest(${tickers.map((t) => t.symbol)}::text[]) as t(s)
      `.execute(database.db);

      const ports = { ours: await freePort(), express: await freePort(), bare: await freePort() };
      const api = spawnApp('api', {
        DATABASE_URL: database.url,
        NATS_URL: nats.url,
        PORT: String(ports.ours),
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        JWT_SECRET: 'bench-only-secret-0123456789abcdef0123456789',
        // the keyed reads never reach the limit: what is measured is the check, not a 429
        API_KEY_RATE_LIMIT: '1000000000',
      });
      procs.push(api.child);
      await api.waitForLine(/"msg":"api listening"/, 30_000);
      const ours = `http://127.0.0.1:${ports.ours}`;

      const files: Record<string, string> = {};
      const bodies: Record<string, Buffer> = {};
      for (const r of ROUTES) {
        const body = await get(`${ours}${r.path}`);
        bodies[r.path] = body;
        files[r.path] = join(tmp, `${r.name.replace(/\W/g, '-')}.json`);
        writeFileSync(files[r.path]!, body);
      }
      const allCount = (JSON.parse(bodies[ROUTES[0].path]!.toString()) as { count: number }).count;
      if (allCount !== tickers.length)
        throw new Error(`the api serves ${allCount} symbols, expected ${tickers.length}`);
      procs.push(await startBaseline('express', ports.express, files));
      procs.push(await startBaseline('bare', ports.bare, files));
      const [expressProc, bareProc] = procs.slice(1);
      const keyHeaders = { 'x-api-key': await readKey(database.db) };
      const targets = {
        ours,
        keyed: ours,
        express: `http://127.0.0.1:${ports.express}`,
        bare: `http://127.0.0.1:${ports.bare}`,
      };
      const pids: Record<string, number> = {
        ours: api.child.pid!,
        keyed: api.child.pid!,
        express: expressProc!.pid!,
        bare: bareProc!.pid!,
      };
      const headersOf = (name: string) => (name === 'keyed' ? keyHeaders : {});
      for (const r of ROUTES) {
        for (const [name, base] of Object.entries(targets)) {
          if (!(await get(`${base}${r.path}`, headersOf(name))).equals(bodies[r.path]!)) {
            throw new Error(`${name} does not send the same bytes for ${r.path}`);
          }
        }
      }

      const figures: Figure[] = [];
      for (const r of ROUTES) {
        const loads: Record<string, Load> = {};
        const measure = async (name: string, seconds: number) => {
          const load = await wrk(
            `${targets[name as keyof typeof targets]}${r.path}`,
            seconds,
            pids[name]!,
            headersOf(name),
          );
          if (load.errors) throw new Error(`${name}: ${load.errors} non-2xx answers on ${r.path}`);
          return load;
        };
        // anonymous and keyed reads of the same api alternate in halves (A B B A), so that what
        // else the machine does meanwhile weighs on both alike: their ratio is the one asked for
        await measure('ours', WARMUP_S);
        await measure('keyed', WARMUP_S);
        const half = Math.max(1, Math.round(DURATION_S / 2));
        const halves: Record<string, Load[]> = { ours: [], keyed: [] };
        for (const name of ['ours', 'keyed', 'keyed', 'ours']) halves[name]!.push(await measure(name, half));
        loads.ours = combine(halves.ours!, 2 * half);
        loads.keyed = combine(halves.keyed!, 2 * half);
        for (const name of ['express', 'bare']) {
          await measure(name, WARMUP_S);
          loads[name] = await measure(name, DURATION_S);
        }
        const o = loads.ours;
        const k = loads.keyed;
        const e = loads.express!;
        const b = loads.bare!;
        const size = `${bodies[r.path]!.length.toLocaleString('en-US')} B body`;
        figures.push(
          {
            metric: `${r.name} req/s vs Express`,
            ours: o.rps,
            baseline: e.rps,
            higherIsBetter: true,
            unit: 'req/s',
            goal: 0.9,
            note: size,
          },
          {
            metric: `${r.name} req/s vs bare node:http`,
            ours: o.rps,
            baseline: b.rps,
            higherIsBetter: true,
            unit: 'req/s',
            note: `Express is ${(e.rps / b.rps).toFixed(2)}× bare`,
          },
          {
            metric: `${r.name} CPU µs/req vs Express`,
            ours: o.cpuUsPerRequest,
            baseline: e.cpuUsPerRequest,
            higherIsBetter: false,
            unit: 'µs',
            goal: 0.9,
            note: `bare ${b.cpuUsPerRequest.toFixed(1)} µs`,
          },
          {
            metric: `${r.name} p99 vs Express`,
            ours: o.p99Ms,
            baseline: e.p99Ms,
            higherIsBetter: false,
            unit: 'ms',
            note: `goal p99 ≤ ${P99_GOAL_MS} ms: ${o.p99Ms <= P99_GOAL_MS ? 'met' : 'NOT met'}; bare p99 ${b.p99Ms} ms`,
          },
          {
            metric: `${r.name} API key req/s vs anonymous`,
            ours: k.rps,
            baseline: o.rps,
            higherIsBetter: true,
            unit: 'req/s',
            goal: 0.9,
            note: `with a key: CPU ${k.cpuUsPerRequest.toFixed(1)} µs/req (anonymous ${o.cpuUsPerRequest.toFixed(1)}), p99 ${k.p99Ms} ms`,
          },
        );
      }
      return { name: 'http', baselineName: 'minimal Express 5 app (and bare node:http where named)', figures };
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(
        procs.map((p) =>
          p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : Promise.resolve(),
        ),
      );
      await nats.close();
      await database.drop();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
