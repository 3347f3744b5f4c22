// pnpm --filter @ratewire/worker backfill --from 2025-01-01 --to 2025-03-31 [--pause-ms 300]
//
// Fills CBR history for a range of days with XML_daily.asp?date_req=dd/mm/yyyy, one request at a
// time with a pause between them. Resumable: days already resolved (cbr_days) are skipped, so a
// run that was stopped (Ctrl-C, a failure) continues where it ended when started again.
import { parseArgs } from 'node:util';

import { isoDate, workerSettingsSchema } from '@ratewire/contracts';
import { createDb, createPool, listCbrDays } from '@ratewire/db';
import { createLogger, errorMessage, loadSettings } from '@ratewire/runtime';

import { CbrClient } from '../cbr/cbr.client.ts';
import { fetchCbrDay } from '../cbr/cbr.service.ts';
import { FeedError } from '../feeds/feed-http.ts';

const MAX_DAYS = 366 * 40;
const MAX_ATTEMPTS = 4;

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: backfill --from YYYY-MM-DD --to YYYY-MM-DD [--pause-ms 300]\n`);
  process.exit(64);
}

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let args;
try {
  args = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, 'pause-ms': { type: 'string', default: '300' } },
    strict: true,
  }).values;
} catch (err) {
  usage(errorMessage(err));
}
const from = args.from ?? usage('--from is required');
const to = args.to ?? usage('--to is required');
if (!isoDate.safeParse(from).success) usage(`--from: "${from}" is not a date (YYYY-MM-DD)`);
if (!isoDate.safeParse(to).success) usage(`--to: "${to}" is not a date (YYYY-MM-DD)`);
if (from > to) usage('--from is after --to');
const pauseMs = Number(args['pause-ms']);
if (!Number.isInteger(pauseMs) || pauseMs < 0 || pauseMs > 60_000) usage('--pause-ms: a whole number from 0 to 60000');
const all = days(from, to);
if (all.length > MAX_DAYS) usage(`the range holds ${all.length} days; at most ${MAX_DAYS} per run`);

const settings = loadSettings('worker', workerSettingsSchema);
// the progress line is the output; logs only for warnings
const log = createLogger('backfill', settings.LOG_LEVEL === 'info' ? 'warn' : settings.LOG_LEVEL);
const pool = createPool(settings.DATABASE_URL, { max: 2, applicationName: 'ratewire-backfill' });
const db = createDb(pool);
const client = new CbrClient({ baseUrl: settings.CBR_BASE_URL, timeoutMs: 15_000 });

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  process.stderr.write('\nstopping after the current day (Ctrl-C again to quit now)\n');
});
process.on('SIGTERM', () => {
  stopping = true;
});

const tty = process.stderr.isTTY;
const started = Date.now();
const counts = { stored: 0, empty: 0, skipped: 0 };

function progress(done: number, total: number, current: string, final = false): void {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const elapsed = (Date.now() - started) / 1000;
  const eta = done > 0 && done < total ? ` eta ${Math.ceil((elapsed / done) * (total - done))}s` : '';
  const line =
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${current}` +
    `  stored ${counts.stored}, no rates ${counts.empty}, already had ${counts.skipped}${eta}`;
  if (tty) process.stderr.write(`\r${line.padEnd(110)}${final ? '\n' : ''}`);
  else if (final || done % 10 === 0) process.stderr.write(`${line}\n`);
}

let exitCode = 0;
try {
  const known = await listCbrDays(db, from, to);
  const todo = all.filter((d) => !known.has(d));
  counts.skipped = all.length - todo.length;
  process.stderr.write(
    `CBR backfill ${from} → ${to}: ${all.length} days, ${todo.length} to fetch, ${counts.skipped} already stored\n`,
  );
  let done = 0;
  for (const day of todo) {
    if (stopping) break;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      try {
        const result = await fetchCbrDay({ client, db, log }, day);
        if (result.effective) counts.stored += 1;
        else counts.empty += 1;
        break;
      } catch (err) {
        // CBR asked us to wait: wait as long as it said, then go on
        if (err instanceof FeedError && err.retryAt) {
          const wait = err.retryAt.getTime() - Date.now();
          process.stderr.write(`\n${day}: ${err.message}; waiting ${Math.ceil(wait / 1000)}s\n`);
          await sleep(Math.max(wait, 1000));
          continue;
        }
        if (attempt >= MAX_ATTEMPTS || stopping) throw new Error(`${day}: ${errorMessage(err)}`, { cause: err });
        await sleep(1000 * 2 ** (attempt - 1));
      }
    }
    done += 1;
    progress(done, todo.length, day);
    if (pauseMs && done < todo.length) await sleep(pauseMs);
  }
  progress(done, todo.length, stopping ? 'stopped' : 'done', true);
  if (stopping && done < todo.length) {
    process.stderr.write(`stopped with ${todo.length - done} days left; run the same command again to resume\n`);
    exitCode = 130;
  }
} catch (err) {
  process.stderr.write(`\nbackfill failed: ${errorMessage(err)}\nrun the same command again to resume\n`);
  exitCode = 1;
} finally {
  await db.destroy();
}
process.exit(exitCode);
