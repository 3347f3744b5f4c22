// One Binance poll: refresh the symbol list when due (hourly), fetch all prices, persist the
// snapshot in one statement, publish what changed after it committed.
import { SUBJECTS, binanceUpdatedEvent } from '@ratewire/contracts';
import { BinanceSnapshotWriter, upsertBinanceSymbols, type BinancePriceChange, type Database } from '@ratewire/db';
import { errorMessage, type Logger, type NatsConnection } from '@ratewire/runtime';

import { FeedError } from '../feeds/feed-http.ts';
import type { PollResult } from '../feeds/feed-poller.ts';
import type { BinanceClient } from './binance.client.ts';
import { BinanceParseError, parseExchangeInfo, parseTickerPrices } from './binance.parser.ts';

export const SYMBOLS_REFRESH_MS = 60 * 60_000;
const SYMBOLS_RETRY_MS = 5 * 60_000;
/** Changed entries per rates.binance.updated message (keeps each message far below NATS' 1 MB). */
const EVENT_CHUNK = 4000;

export interface BinanceServiceDeps {
  client: BinanceClient;
  db: Database;
  log: Logger;
  nats: NatsConnection;
  now?: () => Date;
}

export class BinanceService {
  private readonly deps: BinanceServiceDeps;
  private readonly writer: BinanceSnapshotWriter;
  private symbolsDueAt = 0;

  constructor(deps: BinanceServiceDeps) {
    this.deps = deps;
    this.writer = new BinanceSnapshotWriter(deps.db);
  }

  /** A new leadership term: fetch the symbol list again, trust nothing remembered from before. */
  reset(): void {
    this.symbolsDueAt = 0;
    this.writer.reset();
  }

  async poll(signal: AbortSignal): Promise<PollResult> {
    const { client, log } = this.deps;
    let symbolsNote = '';
    if (Date.now() >= this.symbolsDueAt) symbolsNote = await this.refreshSymbols(signal);

    const snapshot = parse(parseTickerPrices, await client.tickerPrices(signal));
    if (signal.aborted) throw new FeedError('aborted', 'poll aborted before writing');
    const observedAt = this.deps.now?.() ?? new Date();
    const changed = await this.writer.persist({ symbols: snapshot.symbols, prices: snapshot.prices, observedAt });
    this.publish(observedAt, changed);
    const skipped = snapshot.skippedZero + snapshot.skippedSymbol;
    log.debug({ weight: client.lastUsedWeight }, 'binance weight');
    return {
      summary: `${snapshot.symbols.length} prices, ${changed.length} changed${skipped ? `, ${skipped} skipped` : ''}${symbolsNote}`,
      ...(client.notBefore ? { notBefore: client.notBefore } : {}),
    };
  }

  private async refreshSymbols(signal: AbortSignal): Promise<string> {
    const { client, db, log } = this.deps;
    try {
      const info = parse(parseExchangeInfo, await client.exchangeInfo(signal));
      if (info.weightLimit) client.weightLimit = info.weightLimit;
      const changed = await upsertBinanceSymbols(db, info.symbols);
      this.symbolsDueAt = Date.now() + SYMBOLS_REFRESH_MS;
      return `; symbols: ${info.symbols.length} listed, ${changed} changed`;
    } catch (err) {
      // a 429/418 stops the whole feed; any other failure only delays the symbol list
      if (err instanceof FeedError && (err.retryAt || err.kind === 'aborted')) throw err;
      this.symbolsDueAt = Date.now() + SYMBOLS_RETRY_MS;
      log.warn({ err: errorMessage(err) }, 'binance exchangeInfo refresh failed; symbol list kept');
      return '; symbol list refresh failed';
    }
  }

  private publish(observedAt: Date, changed: BinancePriceChange[]): void {
    try {
      for (let i = 0; i < changed.length; i += EVENT_CHUNK) {
        const payload = binanceUpdatedEvent.parse({
          ts: observedAt.toISOString(),
          changed: changed.slice(i, i + EVENT_CHUNK),
        });
        this.deps.nats.publish(SUBJECTS.ratesBinanceUpdated, JSON.stringify(payload));
      }
    } catch (err) {
      this.deps.log.warn({ err: errorMessage(err) }, 'binance change event not published');
    }
  }
}

function parse<T>(fn: (body: Buffer) => T, body: Buffer): T {
  try {
    return fn(body);
  } catch (err) {
    if (err instanceof BinanceParseError)
      throw new FeedError('invalid', `bad Binance response: ${err.message}`, { cause: err });
    throw err;
  }
}
