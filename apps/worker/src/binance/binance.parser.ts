// Validates Binance answers. Prices stay the decimal strings the exchange sent.
//
// Choices (covered by binance.parser.spec.ts and the broken-feed catalogue):
// - The response is rejected as a whole (nothing stored, feed_status shows why) when it is not
//   JSON, not an array, or any entry is malformed: a missing or non-string price, a price that is
//   not a plain decimal, a negative price, a duplicated symbol. A ticker/price answer for all
//   symbols is one snapshot; a broken entry means the snapshot cannot be trusted.
// - An entry priced exactly zero is skipped, not stored: Binance reports 0 for symbols without
//   trades, and a zero must never replace a real last price.
// - A symbol outside ^[A-Z0-9]{2,30}$ (the contracts' symbol form) is skipped and counted.
import { z } from 'zod';

import { ID_FORMS, exactly } from '@ratewire/contracts';
import { isPositive } from '@ratewire/money';

export class BinanceParseError extends Error {
  override readonly name = 'BinanceParseError';
}

const PRICE = /^\d{1,30}(\.\d{1,30})?$/;
const SYMBOL = exactly(ID_FORMS.binanceSymbol);
/** Entries one answer or frame may hold (Binance lists ~2,500 symbols). */
export const MAX_ENTRIES = 20_000;

const tickerEntry = z.object({ symbol: z.string().min(1).max(60), price: z.string() });
const tickerList = z.array(tickerEntry).max(MAX_ENTRIES);

/**
 * The check every Binance price goes through (ticker/price answers and stream frames alike):
 * 'ok' to store; 'symbol' outside the contracts' form and 'zero' are skipped; 'price' is not a
 * plain non-negative decimal (the ticker/price answer is then rejected whole, a stream entry dropped).
 */
export function checkBinancePrice(symbol: string, price: string): 'ok' | 'price' | 'symbol' | 'zero' {
  if (!PRICE.test(price)) return 'price';
  if (!SYMBOL.test(symbol)) return 'symbol';
  if (!isPositive(price)) return 'zero';
  return 'ok';
}

export interface PriceSnapshot {
  symbols: string[];
  prices: string[];
  skippedZero: number;
  skippedSymbol: number;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new BinanceParseError(
      `body is not JSON (${body.length} bytes, starts ${JSON.stringify(body.subarray(0, 40).toString('latin1'))})`,
    );
  }
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

/** GET /api/v3/ticker/price (all symbols) → parallel arrays ready for the snapshot upsert. */
export function parseTickerPrices(body: Buffer): PriceSnapshot {
  const json = parseJson(body);
  if (!Array.isArray(json))
    throw new BinanceParseError(`expected an array of prices, got ${json === null ? 'null' : typeof json}`);
  const parsed = tickerList.safeParse(json);
  if (!parsed.success) throw new BinanceParseError(`bad ticker entry at ${describeIssue(parsed.error)}`);
  const snapshot: PriceSnapshot = { symbols: [], prices: [], skippedZero: 0, skippedSymbol: 0 };
  const seen = new Set<string>();
  for (const { symbol, price } of parsed.data) {
    if (seen.has(symbol)) throw new BinanceParseError(`duplicate symbol ${symbol.slice(0, 30)}`);
    seen.add(symbol);
    const check = checkBinancePrice(symbol, price);
    if (check === 'price')
      throw new BinanceParseError(
        `${symbol.slice(0, 30)}: price ${JSON.stringify(price.slice(0, 40))} is not a decimal`,
      );
    if (check === 'symbol') {
      snapshot.skippedSymbol += 1;
      continue;
    }
    if (check === 'zero') {
      snapshot.skippedZero += 1;
      continue;
    }
    snapshot.symbols.push(symbol);
    snapshot.prices.push(price);
  }
  if (snapshot.symbols.length === 0) throw new BinanceParseError('no usable prices in the response');
  return snapshot;
}

const exchangeInfoSchema = z.object({
  rateLimits: z
    .array(
      z.object({
        rateLimitType: z.string(),
        interval: z.string(),
        intervalNum: z.number().optional(),
        limit: z.number(),
      }),
    )
    .optional(),
  symbols: z
    .array(
      z.object({
        symbol: z.string().min(1).max(60),
        status: z.string().min(1).max(40),
        baseAsset: z.string().min(1).max(40),
        quoteAsset: z.string().min(1).max(40),
      }),
    )
    .max(MAX_ENTRIES),
});

export interface ExchangeInfo {
  /** REQUEST_WEIGHT per minute, when the answer states it. */
  weightLimit: number | undefined;
  symbols: { symbol: string; status: string; baseAsset: string; quoteAsset: string }[];
}

/** GET /api/v3/exchangeInfo → symbol list and status, and the request-weight limit. */
export function parseExchangeInfo(body: Buffer): ExchangeInfo {
  const json = parseJson(body);
  const parsed = exchangeInfoSchema.safeParse(json);
  if (!parsed.success) throw new BinanceParseError(`bad exchangeInfo at ${describeIssue(parsed.error)}`);
  const weight = parsed.data.rateLimits?.find(
    // answers from 2018 call it REQUESTS and have no intervalNum (one minute is meant)
    (l) =>
      (l.rateLimitType === 'REQUEST_WEIGHT' || l.rateLimitType === 'REQUESTS') &&
      l.interval === 'MINUTE' &&
      (l.intervalNum ?? 1) === 1,
  );
  const seen = new Set<string>();
  const symbols = parsed.data.symbols.filter((s) => {
    if (!SYMBOL.test(s.symbol) || seen.has(s.symbol)) return false;
    seen.add(s.symbol);
    return true;
  });
  return { weightLimit: weight?.limit, symbols };
}
