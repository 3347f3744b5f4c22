// The Binance market as the markets page holds it: one row per TRADING symbol in a Map, changed in
// place by each `rates.binance.updated` event (work in proportion to the symbols it names) and
// merged with a REST snapshot when the page catches up. Also the search and the sort orders; every
// price comparison is exact (compareDecimals on the strings the API sent).
import type { BinancePricesResponse } from '@ratewire/contracts/binance.schemas';

import { compareDecimals, percentChange, subtractDecimals } from '../../core/decimal.ts';

/** Each table row's height in px: markets.css sets `.market-table tbody tr` to the same. */
export const ROW_HEIGHT = 36;

export interface MarketRow {
  symbol: string;
  /** The last price, as the API sent it. */
  price: string;
  /** The price before the last change seen here; null until one was seen. */
  previous: string | null;
  /** price − previous, exact. */
  change: string | null;
  /** The change in percent of previous, half-up to 2 places. */
  percent: string | null;
  /** ISO time of the last change seen here (the event's snapshot time); null for a price known only from the snapshot. */
  updatedAt: string | null;
  /** The change was found in a snapshot read after frames may have been lost: it happened by updatedAt. */
  caughtUp: boolean;
  direction: 'up' | 'down' | null;
  /** Grows with every change of this row (restarts its flash). */
  seq: number;
}

export interface PriceChange {
  symbol: string;
  price: string;
  previous: string | null;
}

export interface MarketEvent {
  ts: string;
  changed: readonly PriceChange[];
}

export interface Applied {
  /** Symbols whose price changed. */
  changed: string[];
  /** Symbols came or went: the filtered and sorted list must be built again. */
  membership: boolean;
}

let nextSeq = 1;

function directionOf(price: string, previous: string | null): 'up' | 'down' | null {
  if (previous === null) return null;
  const c = compareDecimals(price, previous);
  return c > 0 ? 'up' : c < 0 ? 'down' : null;
}

function setPrice(row: MarketRow, price: string, previous: string | null, at: string | null, caughtUp: boolean): void {
  row.price = price;
  row.previous = previous;
  row.change = previous === null ? null : subtractDecimals(price, previous);
  row.percent = previous === null ? null : percentChange(price, previous);
  row.direction = directionOf(price, previous);
  row.updatedAt = at;
  row.caughtUp = caughtUp;
  row.seq = nextSeq++;
}

const newRow = (symbol: string, price: string): MarketRow => ({
  symbol,
  price,
  previous: null,
  change: null,
  percent: null,
  updatedAt: null,
  caughtUp: false,
  direction: null,
  seq: 0,
});

export class Market {
  readonly rows = new Map<string, MarketRow>();
  /** The newest price time of the last snapshot read (ISO). */
  snapshotAt: string | null = null;
  /** When the last snapshot was read here (ms since the epoch). */
  snapshotReadAt: number | null = null;
  /** The time of the newest event applied (ISO). */
  lastEventTs: string | null = null;

  /** One change event: each named symbol's price (an event older than what a row shows is skipped for it). */
  applyEvent(event: MarketEvent): Applied {
    const changed: string[] = [];
    let membership = false;
    for (const c of event.changed) {
      let row = this.rows.get(c.symbol);
      let previous = c.previous;
      if (!row) {
        row = newRow(c.symbol, c.price);
        this.rows.set(c.symbol, row);
        membership = true;
      } else if (row.updatedAt !== null && row.updatedAt > event.ts) {
        continue;
      } else {
        previous ??= row.price;
      }
      setPrice(row, c.price, previous, event.ts, false);
      changed.push(c.symbol);
    }
    if (this.lastEventTs === null || event.ts > this.lastEventTs) this.lastEventTs = event.ts;
    return { changed, membership };
  }

  /**
   * A snapshot read over REST. A row changed by an event newer than the snapshot keeps that price;
   * any other difference is a change missed while away (caught up: it happened by the snapshot's time).
   */
  applySnapshot(body: BinancePricesResponse): Applied {
    const first = this.snapshotReadAt === null;
    const at = body.updated_at;
    const changed: string[] = [];
    let membership = false;
    const newer = (row: MarketRow) => row.updatedAt !== null && at !== null && row.updatedAt > at;
    for (const [symbol, price] of Object.entries(body.prices)) {
      const row = this.rows.get(symbol);
      if (!row) {
        this.rows.set(symbol, newRow(symbol, price));
        membership = true;
      } else if (compareDecimals(row.price, price) !== 0 && !newer(row)) {
        setPrice(row, price, first ? null : row.price, at, true);
        changed.push(symbol);
      }
    }
    for (const [symbol, row] of this.rows) {
      if (!(symbol in body.prices) && !newer(row)) {
        this.rows.delete(symbol);
        membership = true;
      }
    }
    this.snapshotAt = at;
    this.snapshotReadAt = Date.now();
    return { changed, membership };
  }
}

// ---- search ----------------------------------------------------------------------------------

export const SEARCH_MAX = 30;
const SEARCH_FORM = /^[A-Za-z0-9]*(?:\/[A-Za-z0-9]*)?$/;

/** What is wrong with a search text, or null when it can be used. */
export function searchProblem(text: string): string | null {
  const t = text.trim();
  if (t.length > SEARCH_MAX) return `A search is at most ${SEARCH_MAX} characters.`;
  if (!SEARCH_FORM.test(t)) return 'Use letters and digits, with at most one / between a base and a quote asset.';
  return null;
}

/**
 * Which symbols a search keeps: a part of the symbol (any case), or `BASE/QUOTE` — the symbol
 * begins with BASE and ends with QUOTE (either may be left out: `BTC/`, `/USDT`).
 */
export function matcherOf(text: string): (symbol: string) => boolean {
  const t = text.trim().toUpperCase();
  if (!t) return () => true;
  const slash = t.indexOf('/');
  if (slash < 0) return (symbol) => symbol.includes(t);
  const base = t.slice(0, slash);
  const quote = t.slice(slash + 1);
  return (symbol) => symbol.length >= base.length + quote.length && symbol.startsWith(base) && symbol.endsWith(quote);
}

// ---- sort ------------------------------------------------------------------------------------

export type SortKey = 'symbol' | 'price' | 'change' | 'updated';
export interface SortOrder {
  key: SortKey;
  direction: 'ascending' | 'descending';
}

/** The columns whose order events change: sorted by one of them, the list is sorted again as prices move. */
export const LIVE_SORT_KEYS: ReadonlySet<SortKey> = new Set(['price', 'change', 'updated']);

const bySymbol = (a: MarketRow, b: MarketRow) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);

/** Rows without a value for the key go last, whichever the direction. */
function nullsLast<T>(get: (r: MarketRow) => T | null, cmp: (a: T, b: T) => number) {
  return (a: MarketRow, b: MarketRow, sign: number) => {
    const va = get(a);
    const vb = get(b);
    if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
    return sign * cmp(va, vb);
  };
}

const COMPARE: Record<SortKey, (a: MarketRow, b: MarketRow, sign: number) => number> = {
  symbol: (a, b, sign) => sign * bySymbol(a, b),
  price: (a, b, sign) => sign * compareDecimals(a.price, b.price),
  change: nullsLast((r) => r.percent, compareDecimals),
  updated: nullsLast(
    (r) => r.updatedAt,
    (x, y) => (x < y ? -1 : x > y ? 1 : 0),
  ),
};

/** The rows the search keeps, in the order asked for (ties by symbol). */
export function orderRows(rows: Iterable<MarketRow>, search: string, order: SortOrder): MarketRow[] {
  const keep = matcherOf(search);
  const list: MarketRow[] = [];
  for (const row of rows) if (keep(row.symbol)) list.push(row);
  const cmp = COMPARE[order.key];
  const sign = order.direction === 'ascending' ? 1 : -1;
  return list.sort((a, b) => cmp(a, b, sign) || bySymbol(a, b));
}
