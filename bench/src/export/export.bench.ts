// CSV export: a CBR history of 30 years × 34 currencies, synthesised in the benchmark's own database,
// streamed through the api (GET /api/v1/rates/cbr/history, Accept: text/csv) against
// `COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)` of the same rows over a raw pg client, in the
// same run. Goals: ≥ 0.5× COPY's rows/s; the api's RSS grows by less than 50 MB while it streams
// more than 1 M rows.
//   data    — the 34 currencies of the CBR answer of 2021-12-11 (codes, ids, names, nominals 1 to
//             10,000, that day's value as the level each series moves around), every CBR-like
//             effective date from 1996-01-01 to 2025-12-31: Tuesday to Saturday (CBR sets a
//             business day's rate for the next day; Saturday's holds over the weekend; holidays are
//             not left out). `value` has 4 decimals, `unit_rate` is value / nominal exactly (one more
//             decimal per power of ten of the nominal). One INSERT … SELECT over generate_series.
//   check   — the api's body for the whole range equals COPY's byte for byte (CRLF line ends are
//             accepted and named in the figure's note; any other difference fails the run), as does a
//             year narrowed with `symbols`; every measured stream has the full row count.
//   rounds  — the api and COPY alternate (A B, then B A) so a busy machine weighs on both alike;
//             medians of each, and the median of the per-round ratios.
//   memory  — the api's RSS (/proc/<pid>/status) sampled every 20 ms from after a small warm-up
//             export through the rounds and then BENCH_EXPORT_CONCURRENT (4) full-range streams at
//             once whose readers stop reading for a second first (the api must stop fetching, not
//             buffer): peak minus before; the heap used (its /metrics) before and after is noted.
import { request } from 'node:http';
import { readFileSync } from 'node:fs';

import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

import { createTestDatabase, freePort, spawnApp } from '@ratewire/testkit';
import { startPrivateNats } from '@ratewire/testkit/private-servers';
import { readFixture } from '@ratewire/testkit/replay/fixtures';

import type { Benchmark, BenchResult, Figure } from '../harness.ts';
import { heapFromMetrics, rssMb as rssOf } from '../soak/memory.ts';

const FROM = '1996-01-01';
const TO = '2025-12-31';
const CURRENCY_FIXTURE = 'cbr/XML_daily_2021-12-11.xml';
const ROUNDS = Number(process.env.BENCH_EXPORT_ROUNDS ?? 5);
const CONCURRENT = Number(process.env.BENCH_EXPORT_CONCURRENT ?? 4);
const PAUSE_MS = 1000;
const RATIO_GOAL = 0.5;
const MEMORY_GOAL_MB = 50;
const SAMPLE_MS = 20;
const HISTORY = '/api/v1/rates/cbr/history';
const HEADER = 'date,code,nominal,value,unit_rate';
const METRICS_TOKEN = 'bench-only-metrics-token';

function rssMb(pid: number): number {
  const mb = rssOf(pid);
  if (mb === null) throw new Error(`the api (process ${pid}) is gone`);
  return mb;
}

/** The api's used heap in MB from its /metrics, or null when it does not say. */
async function heapMb(base: string): Promise<number | null> {
  try {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    return res.ok ? heapFromMetrics(await res.text()) : null;
  } catch {
    return null;
  }
}

interface Currency {
  code: string;
  numCode: string;
  cbrId: string;
  name: string;
  nominal: number;
  value: number;
}

/** The currencies of one CBR daily answer (windows-1251 XML). */
function currencies(): Currency[] {
  const xml = new TextDecoder('windows-1251').decode(readFixture(CURRENCY_FIXTURE));
  const field = (block: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(block)?.[1] ?? '';
  return [...xml.matchAll(/<Valute ID="([^"]+)">(.*?)<\/Valute>/gs)].map(([, id, block = '']) => ({
    code: field(block, 'CharCode'),
    numCode: field(block, 'NumCode'),
    cbrId: id!,
    name: field(block, 'Name'),
    nominal: Number(field(block, 'Nominal')),
    value: Number(field(block, 'Value').replace(',', '.')),
  }));
}

/**
 * Every (effective date, currency) row of the range in one statement: each series wanders around the
 * fixture's value (a slow swing of ±45 % and a faster one of ±4 %, phases per currency), rounded to 4
 * decimals; unit_rate = value / nominal, exact.
 */
async function synthesise(pool: pg.Pool, list: Currency[]): Promise<number> {
  await pool.query(
    `insert into cbr_rates (date, code, num_code, cbr_id, name, nominal, value, unit_rate)
     select d.day, c.code, c.num_code, c.cbr_id, c.name, c.nominal, v.value,
            round(v.value / c.nominal, 4 + length(c.nominal::text) - 1)
     from (select $1::date + i as day, i from generate_series(0, $2::date - $1::date) as i) as d
     cross join unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::float8[])
       with ordinality as c(code, num_code, cbr_id, name, nominal, base, k)
     cross join lateral (
       select greatest(round((c.base * exp(0.45 * sin(d.i / (700.0 + 37 * c.k) + c.k)
                                          + 0.04 * sin(d.i / (23.0 + c.k) + 2 * c.k)))::numeric, 4), 0.0001) as value
     ) as v
     where extract(isodow from d.day) between 2 and 6`,
    [
      FROM,
      TO,
      list.map((c) => c.code),
      list.map((c) => c.numCode),
      list.map((c) => c.cbrId),
      list.map((c) => c.name),
      list.map((c) => c.nominal),
      list.map((c) => c.value),
    ],
  );
  // hint bits set and statistics taken before anything is measured
  await pool.query('vacuum (analyze) cbr_rates');
  const { rows } = await pool.query<{ n: string }>('select count(*) as n from cbr_rates where date between $1 and $2', [
    FROM,
    TO,
  ]);
  return Number(rows[0]!.n);
}

interface Read {
  /** Data rows (lines after the header). */
  rows: number;
  bytes: number;
  ms: number;
  /** Time to the first byte of the body. */
  firstMs: number;
  body?: Buffer;
}

/** Counts the lines and bytes of a stream of chunks, keeping them when asked. */
class Counter {
  lines = 0;
  bytes = 0;
  firstAt = 0;
  private readonly chunks: Buffer[] | undefined;
  constructor(keep: boolean) {
    this.chunks = keep ? [] : undefined;
  }
  add(chunk: Buffer): void {
    if (!this.bytes) this.firstAt = performance.now();
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.lines++;
    this.chunks?.push(chunk);
  }
  read(startedAt: number): Read {
    const now = performance.now();
    return {
      rows: this.lines - 1,
      bytes: this.bytes,
      ms: now - startedAt,
      firstMs: (this.bytes ? this.firstAt : now) - startedAt,
      ...(this.chunks ? { body: Buffer.concat(this.chunks) } : {}),
    };
  }
}

const quoteList = (codes: string[]) => codes.map((c) => `'${c.replace(/'/g, "''")}'`).join(', ');

function copySql(from: string, to: string, symbols?: string[]): string {
  const codes = symbols?.length ? ` and code in (${quoteList(symbols)})` : '';
  return (
    `copy (select date, code, nominal, value, unit_rate from cbr_rates ` +
    `where date between '${from}' and '${to}'${codes} order by date, code) to stdout (format csv, header)`
  );
}

function copyRead(client: pg.Client, text: string, keep = false): Promise<Read> {
  const counter = new Counter(keep);
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const stream = client.query(copyTo(text));
    stream.on('data', (chunk: Buffer) => counter.add(chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(counter.read(startedAt)));
  });
}

/** GET of the api's CSV, the whole body read (and counted) as it arrives. */
function apiRead(
  base: string,
  query: Record<string, string>,
  options: { keep?: boolean; pauseMs?: number } = {},
): Promise<Read> {
  const counter = new Counter(options.keep ?? false);
  const url = new URL(HISTORY, base);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { accept: 'text/csv', 'accept-encoding': 'identity' }, agent: false },
      (res) => {
        const type = String(res.headers['content-type'] ?? '');
        if (res.statusCode !== 200 || !type.startsWith('text/csv')) {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.once('end', () =>
            reject(
              new Error(
                `${url.pathname}${url.search} answered ${res.statusCode} (${type || 'no content-type'}), not a CSV: ` +
                  Buffer.concat(parts).toString('utf8').slice(0, 300),
              ),
            ),
          );
          return;
        }
        if (options.pauseMs) {
          // a slow reader: nothing read for a while, so the socket's buffers fill and the api must wait
          res.pause();
          setTimeout(() => res.resume(), options.pauseMs);
        }
        res.on('data', (chunk: Buffer) => counter.add(chunk));
        res.once('error', reject);
        res.once('end', () => resolve(counter.read(startedAt)));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/**
 * Fails loudly unless the api's CSV is COPY's: byte for byte, or line for line when the api ends its
 * lines with CRLF (RFC 4180) where COPY writes LF. Returns a note on the line ends.
 */
function compareCsv(what: string, api: Buffer, copy: Buffer): string {
  if (api.equals(copy)) return 'byte-identical to COPY';
  const apiLines = api.toString('utf8').split('\n');
  const copyLines = copy.toString('utf8').split('\n');
  const crlf = apiLines.slice(0, -1).every((l) => l.endsWith('\r'));
  const normal = crlf ? apiLines.map((l) => l.replace(/\r$/, '')) : apiLines;
  const n = Math.max(normal.length, copyLines.length);
  for (let i = 0; i < n; i++) {
    if (normal[i] !== copyLines[i]) {
      throw new Error(
        `${what}: the api's CSV differs from COPY's at line ${i + 1} ` +
          `(api ${normal.length - 1} lines, COPY ${copyLines.length - 1}):\n` +
          `  api:  ${JSON.stringify(apiLines[i]?.slice(0, 200))}\n  COPY: ${JSON.stringify(copyLines[i]?.slice(0, 200))}`,
      );
    }
  }
  return 'identical to COPY line for line; the api ends lines with CRLF, COPY with LF';
}

/** utime + stime of a process in milliseconds (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

export const exportBench: Benchmark = {
  name: 'export',
  description:
    `GET ${HISTORY} as CSV (30 years × 34 currencies, ${FROM} … ${TO}) vs ` +
    'COPY (SELECT …) TO STDOUT (FORMAT csv) of the same rows, and the api’s RSS while it streams > 1 M rows',
  async run(): Promise<BenchResult> {
    const list = currencies();
    if (list.length !== 34) throw new Error(`${CURRENCY_FIXTURE} lists ${list.length} currencies, expected 34`);
    const database = await createTestDatabase();
    const nats = await startPrivateNats();
    const client = new pg.Client({ connectionString: database.url, application_name: 'ratewire-bench-copy' });
    let api: ReturnType<typeof spawnApp> | undefined;
    try {
      let t = performance.now();
      const expected = await synthesise(database.pool, list);
      const synthMs = performance.now() - t;
      process.stdout.write(`  synthesised ${thousands(expected)} cbr_rates rows in ${(synthMs / 1000).toFixed(1)} s\n`);
      await client.connect();

      const port = await freePort();
      api = spawnApp('api', {
        DATABASE_URL: database.url,
        NATS_URL: nats.url,
        PORT: String(port),
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        JWT_SECRET: 'bench-only-secret-0123456789abcdef0123456789',
        METRICS_TOKEN,
      });
      await api.waitForLine(/"msg":"api listening"/, 30_000);
      const pid = api.child.pid!;
      const base = `http://127.0.0.1:${port}`;
      const full = { from: FROM, to: TO };

      // warm-up: a month through both, compared; the api's RSS after it is the "before"
      const month = { from: '2010-03-01', to: '2010-03-31' };
      compareCsv(
        'one month',
        (await apiRead(base, month, { keep: true })).body!,
        (await copyRead(client, copySql(month.from, month.to), true)).body!,
      );
      await new Promise((r) => setTimeout(r, 200));
      const heapBefore = await heapMb(base);
      const rssBefore = rssMb(pid);
      const samples: number[] = [rssBefore];
      const sampler = setInterval(() => samples.push(rssMb(pid)), SAMPLE_MS);
      let apiRows = 0;
      const counted = (r: Read, what: string) => {
        if (r.rows !== expected) throw new Error(`${what}: ${r.rows} rows, expected ${expected}`);
        apiRows += r.rows;
        return r;
      };

      let lineNote: string;
      let bodyBytes: number;
      try {
        // the whole range, compared byte for byte (and the first full stream of each: not measured)
        const apiFull = counted(await apiRead(base, full, { keep: true }), 'api, whole range');
        const copyFull = await copyRead(client, copySql(FROM, TO), true);
        if (copyFull.rows !== expected) throw new Error(`COPY: ${copyFull.rows} rows, expected ${expected}`);
        lineNote = compareCsv('whole range', apiFull.body!, copyFull.body!);
        bodyBytes = apiFull.bytes;
        const head = copyFull.body!.subarray(0, HEADER.length).toString();
        if (head !== HEADER) throw new Error(`COPY's header is ${JSON.stringify(head)}, expected ${HEADER}`);
        // a year narrowed to two currencies
        const symbols = ['USD', 'EUR'];
        const narrow = { from: '2020-01-01', to: '2020-12-31', symbols: symbols.join(',') };
        const apiNarrow = await apiRead(base, narrow, { keep: true });
        const copyNarrow = await copyRead(client, copySql(narrow.from, narrow.to, symbols), true);
        if (copyNarrow.rows < 400) throw new Error(`COPY of ${narrow.symbols} in 2020: only ${copyNarrow.rows} rows`);
        compareCsv(`symbols=${narrow.symbols} in 2020`, apiNarrow.body!, copyNarrow.body!);
        apiRows += apiNarrow.rows;

        // measured rounds, alternating which side goes first
        const ours: Read[] = [];
        const copies: Read[] = [];
        let apiCpuMs = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const runApi = async () => {
            const cpu = cpuMs(pid);
            ours.push(counted(await apiRead(base, full), `api, round ${round + 1}`));
            apiCpuMs += cpuMs(pid) - cpu;
          };
          const runCopy = async () => {
            const r = await copyRead(client, copySql(FROM, TO));
            if (r.rows !== expected) throw new Error(`COPY, round ${round + 1}: ${r.rows} rows, expected ${expected}`);
            copies.push(r);
          };
          if (round % 2 === 0) {
            await runApi();
            await runCopy();
          } else {
            await runCopy();
            await runApi();
          }
        }

        const rssOneAtATime = Math.max(...samples);
        // several at once, readers pausing first: the api's memory must not follow the rows
        t = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENT }, (_, i) =>
            apiRead(base, full, { pauseMs: PAUSE_MS }).then((r) => counted(r, `concurrent stream ${i + 1}`)),
          ),
        );
        const togetherMs = performance.now() - t;
        await new Promise((r) => setTimeout(r, 200));
        clearInterval(sampler);
        const rssPeak = Math.max(...samples);
        const rssAfter = rssMb(pid);
        const heapAfter = await heapMb(base);

        const rate = (r: Read) => r.rows / (r.ms / 1000);
        const apiMs = ours.reduce((s, r) => s + r.ms, 0);
        const perRound = ours.map((r, i) => rate(r) / rate(copies[i]!));
        const growth = rssPeak - rssBefore;
        const figures: Figure[] = [
          {
            metric: 'CSV rows/s, whole range (median)',
            ours: median(ours.map(rate)),
            baseline: median(copies.map(rate)),
            higherIsBetter: true,
            unit: 'rows/s',
            goal: RATIO_GOAL,
            note:
              `${thousands(expected)} rows, ${mb(bodyBytes)} MB, ${ROUNDS} rounds each alternating; ` +
              `median of per-round ratios ${median(perRound).toFixed(2)}×; ` +
              `first byte ${median(ours.map((r) => r.firstMs)).toFixed(0)} ms (COPY ${median(copies.map((r) => r.firstMs)).toFixed(0)} ms); ` +
              `api CPU ${((apiCpuMs / apiMs) * 100).toFixed(0)}% of a core while streaming; ${lineNote}`,
          },
          {
            metric: `api RSS over ${(apiRows / 1e6).toFixed(2)} M rows`,
            ours: rssPeak,
            baseline: rssBefore,
            higherIsBetter: false,
            unit: 'MB',
            // the goal (growth < 50 MB) as a ratio of this run's "before"
            goal: Math.ceil((rssBefore / (rssBefore + MEMORY_GOAL_MB)) * 1000) / 1000,
            note:
              `peak − before +${growth.toFixed(1)} MB (+${(rssOneAtATime - rssBefore).toFixed(1)} MB one stream at a time), ` +
              `after − before ${(rssAfter - rssBefore).toFixed(1)} MB; ` +
              (heapBefore !== null && heapAfter !== null
                ? `heap used ${heapBefore.toFixed(1)} → ${heapAfter.toFixed(1)} MB; `
                : '') +
              `goal < ${MEMORY_GOAL_MB} MB: ${growth < MEMORY_GOAL_MB ? 'met' : 'NOT met'}; ` +
              `${2 + ROUNDS} streams one at a time, then ${CONCURRENT} at once (readers paused ${PAUSE_MS} ms first, ` +
              `${thousands((CONCURRENT * expected) / (togetherMs / 1000))} rows/s together)`,
          },
        ];
        return { name: 'export', baselineName: 'COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER) over pg', figures };
      } finally {
        clearInterval(sampler);
      }
    } finally {
      if (api) {
        api.child.kill('SIGTERM');
        await api.exited;
      }
      await client.end().catch(() => {});
      await nats.close();
      await database.drop();
    }
  },
};
