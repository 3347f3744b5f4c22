// The one place a cached read's key is spelled. A key starts with its family (the response cache
// drops a family's keys by that prefix when its version changes); routes declare which key serves
// a request, and data memos use the same keys.
export type CacheFamily = 'cbr' | 'binance' | 'currencies';

export const cacheKeys = {
  cbrLatest: () => 'cbr:latest',
  cbrOn: (day: string) => `cbr:date:${day}`,
  binanceAll: () => 'binance:all',
  binanceOne: (symbol: string) => `binance:sym:${symbol}`,
  /** `[{symbol, price}]`, the Binance rates service's shape. */
  binanceList: () => 'binance:list',
  /** A page of currencies in one rendering: the REST list, or the Currency-API service's shape. */
  currenciesPage: (shape: 'list' | 'compat', limit: number, offset: number) => `currencies:${shape}:${limit}:${offset}`,
} as const;

/** What a cached read returns: its data and how long others may keep it (Cache-Control). */
export interface Cacheable<T = unknown> {
  data: T;
  cacheControl: string;
}

/** Latest data: five seconds. */
export const CACHE_LATEST = 'public, max-age=5';
/** A day that is over never changes. */
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
/** Revalidated on every use (cheap with the ETag): for data admins edit. */
export const CACHE_REVALIDATE = 'no-cache';
