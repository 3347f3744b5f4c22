// Cold start of the `ratewire` CLI: a fresh process per run, spawn to exit, against `node -e`
// programs doing the same work in the same run. Goal: at most 1.5× the baseline's time (a ratio,
// baseline ÷ ours, of at least 0.67).
//   version — `ratewire --version` against `node -e` printing a string.
//   read    — `ratewire rates binance BTCUSDT --json` (profile lookup, request, answer checked
//             against the contract, printed) against `node -e` doing one fetch of the same URL and
//             printing the body. Both ask one local server that answers the same stored-price JSON,
//             so the server's time is equal on both sides and the figure is the client's own.
//   rounds  — the two sides alternate run by run (A B, then B A), after warm-up runs that also
//             fill the CLI's compile cache (as any second run on a machine has it); medians.
// The CLI is built first (apps/cli/build.ts), as `npm start` and `npm test` do.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT } from '@ratewire/testkit';

import type { Benchmark, BenchResult, Figure } from '../harness.ts';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 30);
const WARMUP = 5;
const GOAL = 1 / 1.5;
const BIN = join(REPO_ROOT, 'apps', 'cli', 'bin', 'ratewire.js');
const PRICE = JSON.stringify({
  symbol: 'BTCUSDT',
  price: '97012.34000000',
  updated_at: '2026-12-01T12:00:00.000Z',
  status: 'TRADING',
});

/** Wall time of one process from spawn to exit, in ms; its stdout must match `expect`. */
function timeRun(args: string[], env: NodeJS.ProcessEnv, expect: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      if (code !== 0 || !expect.test(out))
        reject(new Error(`${args.join(' ')}: exit ${code}, stdout ${JSON.stringify(out)}, stderr ${err}`));
      else resolve(ms);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function compare(
  ours: () => Promise<number>,
  baseline: () => Promise<number>,
): Promise<{ ours: number; baseline: number }> {
  for (let i = 0; i < WARMUP; i++) await Promise.all([ours(), baseline()]);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      a.push(await ours());
      b.push(await baseline());
    } else {
      b.push(await baseline());
      a.push(await ours());
    }
  }
  return { ours: median(a), baseline: median(b) };
}

const figure = (metric: string, m: { ours: number; baseline: number }): Figure => ({
  metric,
  ours: m.ours,
  baseline: m.baseline,
  higherIsBetter: false,
  unit: 'ms',
  goal: Number(GOAL.toFixed(2)),
  note: `${(m.ours / m.baseline).toFixed(2)}× the baseline's time; goal ≤ 1.5×`,
});

export const cliBench: Benchmark = {
  name: 'cli',
  description: 'ratewire CLI cold start (--version; rates binance BTCUSDT --json) against node -e doing the same',
  async run(): Promise<BenchResult> {
    const build = spawnSync(process.execPath, [join(REPO_ROOT, 'apps', 'cli', 'build.ts')], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('building the CLI failed');
    const server = createServer((req, res) => {
      if (req.url === '/api/v1/rates/binance/BTCUSDT')
        res.writeHead(200, { 'content-type': 'application/json' }).end(PRICE);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const home = mkdtempSync(join(tmpdir(), 'rw-bench-cli-'));
    // no profile file: the CLI looks for one and goes on with RATEWIRE_URL, as a first run does
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), RATEWIRE_URL: base };
    try {
      const version = await compare(
        () => timeRun([BIN, '--version'], env, /^ratewire \d+\.\d+\.\d+\n$/),
        () => timeRun(['-e', 'process.stdout.write("ratewire 0.1.0\\n")'], env, /^ratewire 0\.1\.0\n$/),
      );
      const url = `${base}/api/v1/rates/binance/BTCUSDT`;
      const read = await compare(
        () => timeRun([BIN, 'rates', 'binance', 'BTCUSDT', '--json'], env, /"price": "97012\.34000000"/),
        () =>
          timeRun(
            ['-e', `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t + "\\n"))`],
            env,
            /"price":"97012\.34000000"/,
          ),
      );
      return {
        name: 'cli',
        baselineName: 'node -e doing the same (print a string; one fetch of the same URL)',
        figures: [figure('ratewire --version', version), figure('rates binance BTCUSDT --json', read)],
      };
    } finally {
      server.close();
      rmSync(home, { recursive: true, force: true });
    }
  },
};
