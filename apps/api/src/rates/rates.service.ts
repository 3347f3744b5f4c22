// Rate reads. Hot bodies (CBR latest, CBR by date, Binance all / one) come from the response
// cache; a CBR day that was never stored is fetched by a worker over NATS request/reply.
import { SUBJECTS, cbrFetchDayReply, type CbrSeriesPoint, type ConvertResponse } from '@ratewire/contracts';
import { AppError, div, errorMessage, mul, roundFixed, type Logger, type NatsConnection } from '@ratewire/core';
import {
  cbrCodeKnown,
  cbrRatesOn,
  cbrSeries,
  latestCbrDate,
  listBinancePrices,
  resolvedCbrDay,
  type BinancePriceRow,
  type Database,
} from '@ratewire/db';

import { dataOf, type CachedResponse, type ResponseCache } from '../cache/response-cache.ts';

export const CACHE_LATEST = 'public, max-age=5';
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
/** CBR publishes from 1 July 1992; nothing is asked of the worker before that. */
export const CBR_FIRST_DAY = '1992-07-01';
export const SERIES_MAX_DAYS = 366;
export const FETCH_DAY_TIMEOUT_MS = 10_000;

export interface CbrBody {
  date: string;
  requested?: string;
  base: 'RUB';
  rates: Record<string, { value: string; nominal: number; unit_rate: string }>;
}

interface BinanceSnapshot {
  version: string;
  at: number;
  rows: Promise<Map<string, BinancePriceRow>>;
}

export interface RatesServiceDeps {
  db: Database;
  nats: NatsConnection;
  log: Logger;
  cache: ResponseCache;
  /** Today's calendar day (UTC); a parameter so tests can pin it. */
  today?: () => string;
  fetchDaySubject?: string;
  fetchDayTimeoutMs?: number;
}

const DAY_MS = 86_400_000;
const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);

export const unknownSymbols = (kind: string, missing: string[]) =>
  new AppError(
    404,
    'unknown_symbol',
    missing.length === 1 ? `unknown ${kind} symbol ${missing[0]}` : `unknown ${kind} symbols ${missing.join(', ')}`,
  );

export class RatesService {
  private readonly db: Database;
  private readonly nats: NatsConnection;
  private readonly log: Logger;
  readonly cache: ResponseCache;
  private readonly today: () => string;
  private readonly fetchDaySubject: string;
  private readonly fetchDayTimeoutMs: number;
  private snapshot: BinanceSnapshot | undefined;

  constructor(deps: RatesServiceDeps) {
    this.db = deps.db;
    this.nats = deps.nats;
    this.log = deps.log;
    this.cache = deps.cache;
    this.today = deps.today ?? (() => new Date().toISOString().slice(0, 10));
    this.fetchDaySubject = deps.fetchDaySubject ?? SUBJECTS.ratesCbrFetchDay;
    this.fetchDayTimeoutMs = deps.fetchDayTimeoutMs ?? FETCH_DAY_TIMEOUT_MS;
  }

  // ---- CBR -------------------------------------------------------------------------------

  cbrLatest(): Promise<CachedResponse> {
    return this.cache.get('cbr', 'cbr:latest', async () => {
      const date = await latestCbrDate(this.db);
      if (!date) throw new AppError(404, 'no_cbr_rates', 'no CBR rates are stored yet');
      const body = toCbrBody(date, await cbrRatesOn(this.db, date));
      return { json: JSON.stringify(body), cacheControl: CACHE_LATEST, data: body };
    });
  }

  /** The rates in force on `requested` (weekends and holidays resolve to the last publication). */
  cbrOn(requested: string, field = 'path.date'): Promise<CachedResponse> {
    const today = this.today();
    if (requested > addDays(today, 1)) {
      // CBR sets tomorrow's rates today; anything later cannot exist yet
      throw new AppError(422, 'validation_failed', 'the request is not valid', [
        { path: field, message: `is in the future (latest possible: ${addDays(today, 1)})` },
      ]);
    }
    if (requested < CBR_FIRST_DAY) {
      throw new AppError(404, 'no_cbr_rates', `CBR published no rates before ${CBR_FIRST_DAY}`);
    }
    return this.cache.get('cbr', `cbr:date:${requested}`, async () => {
      const effective = await this.resolveDay(requested);
      const rows = await cbrRatesOn(this.db, effective);
      if (!rows.length) throw new AppError(502, 'cbr_fetch_failed', `no stored CBR rates for ${effective}`);
      const body = toCbrBody(effective, rows, requested);
      return {
        json: JSON.stringify(body),
        cacheControl: requested < today ? CACHE_IMMUTABLE : CACHE_LATEST,
        data: body,
      };
    });
  }

  private async resolveDay(requested: string): Promise<string> {
    const known = await resolvedCbrDay(this.db, requested);
    if (known) return known;
    const effective = await this.fetchDay(requested);
    if (!effective) throw new AppError(404, 'no_cbr_rates', `CBR has no rates for ${requested}`);
    // the worker stored the day before replying; a replica answering for another database would not have
    const stored = await resolvedCbrDay(this.db, requested);
    if (!stored) throw new AppError(502, 'cbr_fetch_failed', `the rates for ${requested} were not stored`);
    return stored;
  }

  private async fetchDay(date: string): Promise<string | null> {
    let data: Uint8Array;
    try {
      const msg = await this.nats.request(this.fetchDaySubject, JSON.stringify({ date }), {
        timeout: this.fetchDayTimeoutMs,
      });
      data = msg.data;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '503') {
        throw new AppError(503, 'cbr_fetch_unavailable', 'no worker is available to fetch CBR rates; try again later');
      }
      if (code === 'TIMEOUT') {
        throw new AppError(504, 'cbr_fetch_timeout', `fetching the CBR rates for ${date} took too long; try again`);
      }
      this.log.warn({ err: errorMessage(err), date }, 'cbr fetch-day request failed');
      throw new AppError(503, 'cbr_fetch_unavailable', 'could not reach a worker to fetch CBR rates');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(data).toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const reply = cbrFetchDayReply.safeParse(parsed);
    if (!reply.success) {
      this.log.warn({ date }, 'malformed cbr fetch-day reply');
      throw new AppError(502, 'cbr_fetch_failed', 'the worker answered with a malformed reply');
    }
    if (!reply.data.ok) throw new AppError(502, 'cbr_fetch_failed', `CBR could not be read: ${reply.data.error}`);
    return reply.data.effective;
  }

  /** A subset of a CBR body; unknown codes are a 404 naming them. */
  static filterCbr(body: CbrBody, symbols: string[]): CbrBody {
    const missing = symbols.filter((s) => !body.rates[s]);
    if (missing.length) throw unknownSymbols('CBR currency', missing);
    return { ...body, rates: Object.fromEntries(symbols.map((s) => [s, body.rates[s]!])) };
  }

  async cbrSeries(code: string, from: string | undefined, to: string | undefined): Promise<CbrSeriesPoint[]> {
    const last = to ?? this.today();
    const first = from ?? addDays(last, -30);
    if (first > last) {
      throw new AppError(422, 'validation_failed', 'the request is not valid', [
        { path: 'query.from', message: 'must not be after `to`' },
      ]);
    }
    if (daysBetween(first, last) >= SERIES_MAX_DAYS) {
      throw new AppError(422, 'validation_failed', 'the request is not valid', [
        { path: 'query.from', message: `the range spans at most ${SERIES_MAX_DAYS} days` },
      ]);
    }
    const rows = await cbrSeries(this.db, code, first, last);
    if (!rows.length && !(await cbrCodeKnown(this.db, code))) throw unknownSymbols('CBR currency', [code]);
    return rows;
  }

  async convert(q: { from: string; to: string; amount: string; date?: string | undefined }): Promise<ConvertResponse> {
    const body = dataOf<CbrBody>(q.date ? await this.cbrOn(q.date, 'query.date') : await this.cbrLatest());
    const unit = (code: string) => {
      if (code === 'RUB') return '1';
      const r = body.rates[code];
      if (!r) throw new AppError(404, 'unknown_currency', `no CBR rate for ${code} on ${body.date}`);
      return r.unit_rate;
    };
    const exact = div(unit(q.from), unit(q.to));
    return {
      from: q.from,
      to: q.to,
      amount: q.amount,
      rate: roundFixed(exact, 8),
      result: roundFixed(mul(q.amount, exact), 2),
      date: body.date,
    };
  }

  // ---- Binance ---------------------------------------------------------------------------

  /** Latest price rows, loaded once per cache version (symbol → row). */
  private binanceRows(): Promise<Map<string, BinancePriceRow>> {
    const version = this.cache.version('binance');
    const snap = this.snapshot;
    if (snap && snap.version === version && performance.now() - snap.at < 60_000) return snap.rows;
    const rows = listBinancePrices(this.db).then((list) => new Map(list.map((r) => [r.symbol, r])));
    const next = { version, at: performance.now(), rows };
    this.snapshot = next;
    rows.catch(() => {
      if (this.snapshot === next) this.snapshot = undefined;
    });
    return rows;
  }

  peekBinanceAll(): CachedResponse | undefined {
    return this.cache.peek('binance', 'binance:all');
  }

  binanceAll(): Promise<CachedResponse> {
    return this.cache.get('binance', 'binance:all', async () => {
      const rows = await this.binanceRows();
      return { json: JSON.stringify(toBinanceBody([...rows.values()])), cacheControl: CACHE_LATEST };
    });
  }

  peekBinanceOne(symbol: string): CachedResponse | undefined {
    return this.cache.peek('binance', `binance:sym:${symbol}`);
  }

  binanceOne(symbol: string): Promise<CachedResponse> {
    return this.cache.get(
      'binance',
      `binance:sym:${symbol}`,
      async () => {
        const row = (await this.binanceRows()).get(symbol);
        if (!row) throw unknownSymbols('Binance', [symbol]);
        const body = { symbol: row.symbol, price: row.price, updated_at: row.updated_at.toISOString() };
        return { json: JSON.stringify(body), cacheControl: CACHE_LATEST, data: body };
      },
      { shared: false },
    );
  }

  async binanceSome(symbols: string[]) {
    const rows = await this.binanceRows();
    const missing = symbols.filter((s) => !rows.has(s));
    if (missing.length) throw unknownSymbols('Binance', missing);
    return toBinanceBody(symbols.map((s) => rows.get(s)!));
  }

  /** The Binance rates service’s shape: [{symbol, price}] with the price as a string. */
  async binanceList(): Promise<{ symbol: string; price: string }[]> {
    return [...(await this.binanceRows()).values()].map((r) => ({ symbol: r.symbol, price: r.price }));
  }

  async binancePrice(symbol: string): Promise<BinancePriceRow> {
    const row = (await this.binanceRows()).get(symbol);
    if (!row) throw unknownSymbols('Binance', [symbol]);
    return row;
  }
}

function toCbrBody(
  date: string,
  rows: { code: string; value: string; nominal: number; unit_rate: string }[],
  requested?: string,
): CbrBody {
  const rates: CbrBody['rates'] = {};
  for (const r of rows) rates[r.code] = { value: r.value, nominal: r.nominal, unit_rate: r.unit_rate };
  return requested ? { date, requested, base: 'RUB', rates } : { date, base: 'RUB', rates };
}

function toBinanceBody(rows: BinancePriceRow[]) {
  const prices: Record<string, string> = {};
  let newest = 0;
  for (const r of rows) {
    prices[r.symbol] = r.price;
    newest = Math.max(newest, r.updated_at.getTime());
  }
  return { updated_at: rows.length ? new Date(newest).toISOString() : null, count: rows.length, prices };
}
