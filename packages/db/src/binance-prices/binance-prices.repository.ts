// Binance: the symbol list (binance_symbols), the latest prices (binance_prices) and their change
// history (binance_price_history, trimmed by retention).
import { sql, type Kysely } from 'kysely';

import type { DB } from '../schema.ts';

export interface BinanceSymbolInput {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  status: string;
}

export interface BinancePriceRow {
  symbol: string;
  price: string;
  updated_at: Date;
  /** The exchange status from exchangeInfo (TRADING, BREAK, HALT, …); null while the symbol list does not name it. */
  status: string | null;
}

export interface BinancePriceChange {
  symbol: string;
  /** The new price, as the exchange wrote it. */
  price: string;
  /** The price stored before, or null for a symbol seen for the first time. */
  previous: string | null;
}

/** Upserts the symbol list; rows change only when something about them changed. */
export async function upsertBinanceSymbols(db: Kysely<DB>, symbols: BinanceSymbolInput[]): Promise<number> {
  if (!symbols.length) return 0;
  const result = await sql`
    insert into binance_symbols (symbol, base_asset, quote_asset, status)
    select * from unnest(
      ${symbols.map((s) => s.symbol)}::text[], ${symbols.map((s) => s.baseAsset)}::text[],
      ${symbols.map((s) => s.quoteAsset)}::text[], ${symbols.map((s) => s.status)}::text[]
    )
    on conflict (symbol) do update set
      base_asset = excluded.base_asset, quote_asset = excluded.quote_asset, status = excluded.status, updated_at = now()
    where (binance_symbols.base_asset, binance_symbols.quote_asset, binance_symbols.status)
      is distinct from (excluded.base_asset, excluded.quote_asset, excluded.status)
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Text that can go into an array literal as it is (no quoting, escaping or NULL to fear). */
const PLAIN_SYMBOL = /^[A-Za-z0-9_.-]{1,60}$/;
const PLAIN_DECIMAL = /^-?\d{1,30}(\.\d{1,30})?$/;

/**
 * `{a,b,c}` built directly when every element is plain (the common case: Binance symbols and
 * decimal prices), which spares pg's per-element escaping of thousands of values; otherwise the
 * array itself, for pg to serialise.
 */
function arrayParam(values: string[], plain: RegExp): string | string[] {
  for (const v of values) if (!plain.test(v) || v.toUpperCase() === 'NULL') return values;
  return `{${values.join(',')}}`;
}

/**
 * Persists one price snapshot in a single statement: the arrays go in as one `unnest` parameter
 * each; rows whose price did not change are filtered out by a hash join against the latest table
 * (so they are neither written nor locked); known symbols are updated through the same join,
 * new ones inserted (on conflict: updated); exactly the changed rows are appended to history.
 * Every part of the statement sees the table as it was before it, so `previous` is the old price.
 * Symbols must be unique within the snapshot.
 */
export async function persistBinanceSnapshot(
  db: Kysely<DB>,
  snapshot: { symbols: string[]; prices: string[]; observedAt: Date },
): Promise<BinancePriceChange[]> {
  const { symbols, prices, observedAt } = snapshot;
  if (symbols.length !== prices.length) throw new Error('symbols and prices differ in length');
  if (!symbols.length) return [];
  const result = await sql<BinancePriceChange>`
    with input as (
      select i.symbol, i.price, p.price as previous, p.symbol is not null as known
      from unnest(${arrayParam(symbols, PLAIN_SYMBOL)}::text[], ${arrayParam(prices, PLAIN_DECIMAL)}::numeric[])
        as i(symbol, price)
      left join binance_prices p on p.symbol = i.symbol
      where p.price is distinct from i.price
    ),
    updated as (
      update binance_prices b set price = i.price, updated_at = ${observedAt}::timestamptz
      from input i
      where i.known and b.symbol = i.symbol
    ),
    inserted as (
      insert into binance_prices (symbol, price, updated_at)
      select symbol, price, ${observedAt}::timestamptz from input where not known
      on conflict (symbol) do update set price = excluded.price, updated_at = excluded.updated_at
    ),
    history as (
      insert into binance_price_history (symbol, price, observed_at)
      select symbol, price, ${observedAt}::timestamptz from input
    )
    select symbol, price, previous from input
  `.execute(db);
  return result.rows;
}

export interface SnapshotWriterOptions {
  /** Every n-th snapshot is sent whole, so the memory of what was written cannot drift for long (default 30). */
  fullEvery?: number;
}

/**
 * The poller's way to persist successive snapshots. It remembers the price text it last wrote
 * (or found equal) per symbol and sends only symbols whose text moved since, so the statement
 * works on the ~30% that changed instead of the whole list. The database still decides what
 * changed (numeric comparison in persistBinanceSnapshot), so sending too much is harmless; to
 * never send too little the memory is dropped on any failure and by `reset()` (a new leadership
 * term, as another replica may have written meanwhile), and every `fullEvery`-th snapshot goes
 * whole.
 */
export class BinanceSnapshotWriter {
  private readonly db: Kysely<DB>;
  private readonly fullEvery: number;
  private last = new Map<string, string>();
  private count = 0;

  constructor(db: Kysely<DB>, options: SnapshotWriterOptions = {}) {
    this.db = db;
    this.fullEvery = Math.max(1, options.fullEvery ?? 30);
  }

  reset(): void {
    this.last = new Map();
    this.count = 0;
  }

  async persist(snapshot: { symbols: string[]; prices: string[]; observedAt: Date }): Promise<BinancePriceChange[]> {
    const { symbols, prices, observedAt } = snapshot;
    const full = this.last.size === 0 || this.count % this.fullEvery === 0;
    let sendSymbols = symbols;
    let sendPrices = prices;
    if (!full) {
      sendSymbols = [];
      sendPrices = [];
      for (let i = 0; i < symbols.length; i++) {
        const symbol = symbols[i]!;
        const price = prices[i]!;
        if (this.last.get(symbol) !== price) {
          sendSymbols.push(symbol);
          sendPrices.push(price);
        }
      }
    }
    let changed: BinancePriceChange[];
    try {
      changed = await persistBinanceSnapshot(this.db, { symbols: sendSymbols, prices: sendPrices, observedAt });
    } catch (err) {
      this.reset();
      throw err;
    }
    // committed: the table now holds (a value equal to) each price sent
    if (full) this.last = new Map();
    for (let i = 0; i < sendSymbols.length; i++) this.last.set(sendSymbols[i]!, sendPrices[i]!);
    this.count += 1;
    return changed;
  }
}

/**
 * Deletes one batch of history rows older than `before`; returns how many went. Only the
 * history table is touched, in short statements, so the latest-price table is never locked.
 */
export async function deleteBinanceHistoryBatch(db: Kysely<DB>, before: Date, batchSize: number): Promise<number> {
  const result = await sql`
    delete from binance_price_history
    where id in (
      select id from binance_price_history where observed_at < ${before}::timestamptz
      limit ${batchSize}
    )
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Every latest price, by symbol, with the symbol's exchange status (null when the symbol list has no entry for it). */
export async function listBinancePrices(db: Kysely<DB>): Promise<BinancePriceRow[]> {
  return db
    .selectFrom('binance_prices as p')
    .leftJoin('binance_symbols as s', 's.symbol', 'p.symbol')
    .select(['p.symbol', 'p.price', 'p.updated_at', 's.status'])
    .orderBy('p.symbol')
    .execute();
}
