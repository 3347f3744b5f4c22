// Rate reads: data and its cache policy (the routes declare how their bodies are cached). The CBR
// bodies and the Binance price rows are kept in memos while their family's version stands, so
// conversions and narrowed reads do not go to Postgres each time; a CBR day that was never stored
// is fetched by a worker over NATS request/reply.
import { SUBJECTS, cbrFetchDayReply, type CompatSymbolPrice, type ConvertResponse } from '@ratewire/contracts';
import {
  cbrRatesOn,
  latestCbrDate,
  listBinancePrices,
  resolvedCbrDay,
  type BinancePriceRow,
  type Database,
} from '@ratewire/db';
import { div, mul, roundFixed } from '@ratewire/money';
import { decodeMessage, errorMessage, type Logger, type NatsConnection } from '@ratewire/runtime';

import { AppError } from '../http/app-error.ts';
import { CACHE_IMMUTABLE, CACHE_LATEST, cacheKeys, type Cacheable } from '../cache/cache-keys.ts';
import { DataMemo } from '../cache/data-memo.ts';
import { CROSS_PLACES, crossRate } from './series.ts';
import type { FamilyVersions } from '../cache/response-cache.ts';

/** CBR publishes from 1 July 1992; nothing is asked of the worker before that. */
export const CBR_FIRST_DAY = '1992-07-01';
export const FETCH_DAY_TIMEOUT_MS = 10_000;

export interface CbrBody {
  date: string;
  requested?: string;
  base: string;
  rates: Record<string, { value: string; nominal: number; unit_rate: string }>;
}

export interface RatesServiceDeps {
  db: Database;
  nats: NatsConnection;
  log: Logger;
  /** The response cache's family versions: the memos are dropped when an event changes them. */
  versions: FamilyVersions;
  /** Today's calendar day (UTC); a parameter so tests can pin it. */
  today?: () => string;
  fetchDaySubject?: string;
  fetchDayTimeoutMs?: number;
}

const DAY_MS = 86_400_000;
const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

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
  private readonly today: () => string;
  private readonly fetchDaySubject: string;
  private readonly fetchDayTimeoutMs: number;
  private readonly cbrBodies: DataMemo<Cacheable<CbrBody>>;
  private readonly binance: DataMemo<Map<string, BinancePriceRow>>;

  constructor(deps: RatesServiceDeps) {
    this.db = deps.db;
    this.nats = deps.nats;
    this.log = deps.log;
    this.cbrBodies = new DataMemo(deps.versions, 'cbr');
    this.binance = new DataMemo(deps.versions, 'binance', { maxEntries: 1 });
    this.today = deps.today ?? (() => new Date().toISOString().slice(0, 10));
    this.fetchDaySubject = deps.fetchDaySubject ?? SUBJECTS.ratesCbrFetchDay;
    this.fetchDayTimeoutMs = deps.fetchDayTimeoutMs ?? FETCH_DAY_TIMEOUT_MS;
  }

  // ---- CBR -------------------------------------------------------------------------------

  cbrLatest(): Promise<Cacheable<CbrBody>> {
    return this.cbrBodies.get(cacheKeys.cbrLatest(), async () => {
      const date = await latestCbrDate(this.db);
      if (!date) throw new AppError(404, 'no_cbr_rates', 'no CBR rates are stored yet');
      return { data: toCbrBody(date, await cbrRatesOn(this.db, date)), cacheControl: CACHE_LATEST };
    });
  }

  /** The rates in force on `requested` (weekends and holidays resolve to the last publication). */
  cbrOn(requested: string, field = 'path.date'): Promise<Cacheable<CbrBody>> {
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
    return this.cbrBodies.get(cacheKeys.cbrOn(requested), async () => {
      const effective = await this.resolveDay(requested);
      const rows = await cbrRatesOn(this.db, effective);
      if (!rows.length) throw new AppError(502, 'cbr_fetch_failed', `no stored CBR rates for ${effective}`);
      return {
        data: toCbrBody(effective, rows, requested),
        cacheControl: requested < today ? CACHE_IMMUTABLE : CACHE_LATEST,
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
    const reply = decodeMessage(cbrFetchDayReply, data);
    if (!reply.ok) {
      this.log.warn({ date, reason: reply.reason }, 'malformed cbr fetch-day reply');
      throw new AppError(502, 'cbr_fetch_failed', 'the worker answered with a malformed reply');
    }
    if (!reply.value.ok) throw new AppError(502, 'cbr_fetch_failed', `CBR could not be read: ${reply.value.error}`);
    return reply.value.effective;
  }

  /** A subset of a CBR body; unknown codes are a 404 naming them. */
  static filterCbr(body: CbrBody, symbols: string[]): CbrBody {
    const missing = symbols.filter((s) => !body.rates[s]);
    if (missing.length) throw unknownSymbols('CBR currency', missing);
    return { ...body, rates: Object.fromEntries(symbols.map((s) => [s, body.rates[s]!])) };
  }

  /**
   * A CBR body (in rubles) expressed in `base`: each value and unit rate divided by the base's unit
   * rate, half-up to 8 places (as /convert's rate), RUB added, `base` itself 1.
   */
  static inBase(body: CbrBody, base: string): CbrBody {
    if (base === body.base) return body;
    const baseUnit = body.rates[base]?.unit_rate;
    if (!baseUnit) throw unknownSymbols('CBR currency', [base]);
    const rates: CbrBody['rates'] = {};
    for (const [code, r] of Object.entries({ ...body.rates, RUB: { value: '1', nominal: 1, unit_rate: '1' } })) {
      rates[code] = {
        value: crossRate(r.value, baseUnit),
        nominal: r.nominal,
        unit_rate: crossRate(r.unit_rate, baseUnit),
      };
    }
    return { ...body, base, rates };
  }

  async convert(q: { from: string; to: string; amount: string; date?: string | undefined }): Promise<ConvertResponse> {
    const body = (q.date ? await this.cbrOn(q.date, 'query.date') : await this.cbrLatest()).data;
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
      rate: roundFixed(exact, CROSS_PLACES),
      result: roundFixed(mul(q.amount, exact), 2),
      date: body.date,
    };
  }

  // ---- Binance ---------------------------------------------------------------------------

  /** Latest price rows, loaded once per version of the family (symbol → row). */
  private binanceRows(): Promise<Map<string, BinancePriceRow>> {
    return this.binance.get(cacheKeys.binanceAll(), () =>
      listBinancePrices(this.db).then((list) => new Map(list.map((r) => [r.symbol, r]))),
    );
  }

  /** Every symbol that trades, or (`all`) every priced symbol with its status. */
  async binanceAll(status: 'trading' | 'all' = 'trading'): Promise<Cacheable> {
    const rows = [...(await this.binanceRows()).values()];
    if (status === 'all') return { data: toBinanceBody(rows, true), cacheControl: CACHE_LATEST };
    return { data: toBinanceBody(rows.filter(trades), false), cacheControl: CACHE_LATEST };
  }

  /** One symbol's price, whatever its status (which the body says). */
  async binanceOne(symbol: string): Promise<Cacheable> {
    const row = await this.binancePrice(symbol);
    return {
      data: { symbol: row.symbol, price: row.price, updated_at: row.updated_at.toISOString(), status: row.status },
      cacheControl: CACHE_LATEST,
    };
  }

  /** The symbols named, whatever their status (listed in `statuses`). */
  async binanceSome(symbols: string[]): Promise<Cacheable> {
    const rows = await this.binanceRows();
    const missing = symbols.filter((s) => !rows.has(s));
    if (missing.length) throw unknownSymbols('Binance', missing);
    return {
      data: toBinanceBody(
        symbols.map((s) => rows.get(s)!),
        true,
      ),
      cacheControl: CACHE_LATEST,
    };
  }

  /** The Binance rates service’s shape: [{symbol, price}] with the price as a string; `all` adds the status. */
  async binanceList(status: 'trading' | 'all' = 'trading'): Promise<Cacheable<CompatSymbolPrice[]>> {
    const rows = [...(await this.binanceRows()).values()];
    const data =
      status === 'all'
        ? rows.map((r) => ({ symbol: r.symbol, price: r.price, status: r.status }))
        : rows.filter(trades).map((r) => ({ symbol: r.symbol, price: r.price }));
    return { data, cacheControl: CACHE_LATEST };
  }

  async binancePrice(symbol: string): Promise<BinancePriceRow> {
    const row = (await this.binanceRows()).get(symbol);
    if (!row) throw unknownSymbols('Binance', [symbol]);
    return row;
  }

  /** Whether the symbol has a stored price (any status). */
  async binanceKnown(symbol: string): Promise<boolean> {
    return (await this.binanceRows()).has(symbol);
  }
}

/** Whether Binance's exchangeInfo lists the symbol as TRADING (halted and delisted pairs keep a last price). */
const trades = (r: BinancePriceRow) => r.status === 'TRADING';

function toCbrBody(
  date: string,
  rows: { code: string; value: string; nominal: number; unit_rate: string }[],
  requested?: string,
): CbrBody {
  const rates: CbrBody['rates'] = {};
  for (const r of rows) rates[r.code] = { value: r.value, nominal: r.nominal, unit_rate: r.unit_rate };
  return requested ? { date, requested, base: 'RUB', rates } : { date, base: 'RUB', rates };
}

function toBinanceBody(rows: BinancePriceRow[], withStatus: boolean) {
  const prices: Record<string, string> = {};
  const statuses: Record<string, string | null> = {};
  let newest = 0;
  for (const r of rows) {
    prices[r.symbol] = r.price;
    if (withStatus) statuses[r.symbol] = r.status;
    newest = Math.max(newest, r.updated_at.getTime());
  }
  const updated_at = rows.length ? new Date(newest).toISOString() : null;
  return withStatus ? { updated_at, count: rows.length, prices, statuses } : { updated_at, count: rows.length, prices };
}
