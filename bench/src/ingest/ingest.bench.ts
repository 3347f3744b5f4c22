// Snapshot ingest: the Binance poller's persist against a raw COPY of the same snapshot rows
// into an empty staging table, side by side in one run. Two figures for ours: the poller's path
// (BinanceSnapshotWriter: in-memory diff, then the one unnest statement) and that statement
// alone on every full snapshot.
import type pg from 'pg';

import { BinanceSnapshotWriter, persistBinanceSnapshot } from '@ratewire/db';
import { createTestDatabase } from '@ratewire/testkit';
import { readFixture } from '@ratewire/testkit/replay/fixtures';

import type { Benchmark, BenchResult, Figure } from '../harness.ts';

const FIXTURE = 'binance/ticker_24hr_johnthotekat-onchain-monitor.json';
const CHANGED_SHARE = 0.3;
const WARMUP_ROUNDS = 5;
const ROUNDS = 40;

/** `COPY … FROM STDIN` on a pg client without an extra package: a minimal custom query. */
class CopyFromStdin {
  readonly text: string;
  private readonly data: Buffer;
  private readonly done: { resolve: () => void; reject: (err: Error) => void };
  readonly promise: Promise<void>;
  private failed = false;

  constructor(text: string, data: Buffer) {
    this.text = text;
    this.data = data;
    let done!: { resolve: () => void; reject: (err: Error) => void };
    this.promise = new Promise<void>((resolve, reject) => (done = { resolve, reject }));
    this.done = done;
  }
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void {
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }
  handleCommandComplete(): void {}
  handleError(err: Error): void {
    this.failed = true;
    this.done.reject(err);
  }
  handleReadyForQuery(): void {
    if (!this.failed) this.done.resolve();
  }
}

function copyFrom(client: pg.PoolClient, text: string, data: Buffer): Promise<void> {
  const query = new CopyFromStdin(text, data);
  // pg hands the connection to a query object that has submit() (as pg-copy-streams does)
  void client.query(query as unknown as pg.QueryConfig);
  return query.promise;
}

/** Deterministic pseudo-random numbers, so every run measures the same snapshots. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The next snapshot: ~30% of the prices moved by a few units in the last places (still 8 decimals). */
function nextSnapshot(prices: string[], random: () => number): string[] {
  return prices.map((p) => {
    if (random() >= CHANGED_SHARE) return p;
    const [int = '0', frac = ''] = p.split('.');
    const units = BigInt(int + frac.padEnd(8, '0').slice(0, 8)) + BigInt(1 + Math.floor(random() * 1000));
    const digits = units.toString().padStart(9, '0');
    return `${digits.slice(0, -8)}.${digits.slice(-8)}`;
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export const ingestBench: Benchmark = {
  name: 'ingest',
  description: `persist successive ${FIXTURE.split('/')[1]} snapshots (~30% changed) vs raw COPY of the same rows`,
  async run(): Promise<BenchResult> {
    const entries = JSON.parse(readFixture(FIXTURE).toString('utf8')) as { symbol: string; lastPrice: string }[];
    const symbols = entries.map((e) => e.symbol);
    let prices = entries.map((e) => e.lastPrice);
    const poller = await createTestDatabase();
    const sqlOnly = await createTestDatabase();
    const writer = new BinanceSnapshotWriter(poller.db);
    const random = prng(20261124);
    const times = { poller: [] as number[], sqlOnly: [] as number[], copy: [] as number[] };
    let changedTotal = 0;
    const client = await poller.pool.connect();
    try {
      await client.query('create table bench_staging (symbol text not null, price numeric not null)');
      // first snapshot: every symbol is new (not measured)
      await writer.persist({ symbols, prices, observedAt: new Date() });
      await persistBinanceSnapshot(sqlOnly.db, { symbols, prices, observedAt: new Date() });
      for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
        prices = nextSnapshot(prices, random);
        const observedAt = new Date(Date.UTC(2024, 2, 10) + round * 10_000);
        const measured = round >= WARMUP_ROUNDS;

        let t = performance.now();
        const changed = await writer.persist({ symbols, prices, observedAt });
        if (measured) times.poller.push(performance.now() - t);

        t = performance.now();
        const changedSql = await persistBinanceSnapshot(sqlOnly.db, { symbols, prices, observedAt });
        if (measured) times.sqlOnly.push(performance.now() - t);
        if (changedSql.length !== changed.length) throw new Error('the two paths disagree on what changed');

        await client.query('truncate bench_staging');
        t = performance.now();
        let text = '';
        for (let i = 0; i < symbols.length; i++) text += `${symbols[i]}\t${prices[i]}\n`;
        await copyFrom(client, 'copy bench_staging (symbol, price) from stdin', Buffer.from(text));
        if (measured) times.copy.push(performance.now() - t);
        if (measured) changedTotal += changed.length;
      }
      const staged = await client.query<{ n: string }>('select count(*) as n from bench_staging');
      if (Number(staged.rows[0]?.n) !== symbols.length) throw new Error('COPY baseline stored a different row count');
    } finally {
      client.release();
      await poller.drop();
      await sqlOnly.drop();
    }
    const rate = (ms: number) => symbols.length / (ms / 1000);
    const figure = (metric: string, ours: number[], note?: string): Figure => ({
      metric,
      ours: rate(median(ours)),
      baseline: rate(median(times.copy)),
      higherIsBetter: true,
      unit: 'rows/s',
      goal: 0.5,
      ...(note ? { note } : {}),
    });
    const share = ((changedTotal / (ROUNDS * symbols.length)) * 100).toFixed(1);
    return {
      name: 'ingest',
      baselineName: 'COPY FROM STDIN into an empty staging table',
      figures: [
        figure(
          'snapshot rows/s: poller (median)',
          times.poller,
          `${symbols.length} rows × ${ROUNDS} rounds, ${share}% changed`,
        ),
        {
          ...figure('snapshot rows/s: poller (mean)', []),
          ours: rate(mean(times.poller)),
          baseline: rate(mean(times.copy)),
        },
        figure('snapshot rows/s: statement (median)', times.sqlOnly, 'full snapshot sent every round'),
      ],
    };
  },
};
