// Fetch → parse → store (one transaction) → publish, for the poll and for past days.
import type { Logger, NatsConnection } from '@ratewire/runtime';

import { storeCbrDay, type Database, type StoreCbrDayResult } from '@ratewire/db';

import { FeedError } from '../feeds/feed-http.ts';
import type { PollResult } from '../feeds/feed-poller.ts';
import { CbrParseError, parseCbrDaily, type CbrDay } from './cbr.parser.ts';
import type { CbrClient } from './cbr.client.ts';
import { publishCbrChanges } from './cbr.events.ts';

export interface CbrServiceDeps {
  client: CbrClient;
  db: Database;
  log: Logger;
  /** Absent in the backfill command, which writes history only. */
  nats?: NatsConnection;
}

function parse(body: Buffer): CbrDay {
  try {
    return parseCbrDaily(body);
  } catch (err) {
    if (err instanceof CbrParseError)
      throw new FeedError('invalid', `bad CBR response: ${err.message}`, { cause: err });
    throw err;
  }
}

function describe(day: CbrDay, result: StoreCbrDayResult): string {
  return `${day.rates.length} rates for ${day.date}, ${result.changed.length} changed`;
}

/** One poll of today's rates: only a complete, valid answer is stored. */
export async function pollCbr(deps: CbrServiceDeps, signal: AbortSignal): Promise<PollResult> {
  const day = parse(await deps.client.fetchDaily(undefined, signal));
  if (!day.rates.length) throw new FeedError('invalid', `bad CBR response: no rates in ValCurs for ${day.date}`);
  if (signal.aborted) throw new FeedError('aborted', 'poll aborted before writing');
  const result = await deps.db.transaction().execute((trx) => storeCbrDay(trx, { date: day.date, rates: day.rates }));
  if (deps.nats) publishCbrChanges(deps.nats, deps.log, day.date, result);
  return { summary: describe(day, result) };
}

export interface FetchDayResult {
  requested: string;
  /** The date whose rates answer `requested`, or null when CBR published none for it. */
  effective: string | null;
  summary: string;
}

/**
 * Fetches a past day (date_req) and stores it under its effective date, with requested →
 * effective in cbr_days. `currencies` follows only when that date is the newest stored, and
 * events go out only then (a history fill is not a rate change anyone is waiting for).
 */
export async function fetchCbrDay(
  deps: CbrServiceDeps,
  requested: string,
  signal?: AbortSignal,
): Promise<FetchDayResult> {
  const day = parse(await deps.client.fetchDaily(requested, signal));
  if (!day.rates.length) return { requested, effective: null, summary: `no rates published for ${requested}` };
  if (day.date > requested) {
    // CBR answers a day before its first publication with the earliest set; it does not apply
    throw new FeedError('invalid', `CBR answered ${requested} with rates from ${day.date}`);
  }
  const result = await deps.db
    .transaction()
    .execute((trx) => storeCbrDay(trx, { date: day.date, rates: day.rates, requested }));
  if (deps.nats && result.newest) publishCbrChanges(deps.nats, deps.log, day.date, result);
  return { requested, effective: day.date, summary: describe(day, result) };
}
