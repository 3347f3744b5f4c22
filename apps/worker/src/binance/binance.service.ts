// One Binance poll: refresh the symbol list when due (hourly), fetch all prices, persist the
// snapshot in one statement, publish what changed after it committed.
import { SUBJECTS, binanceUpdatedEvent } from '@ratewire/contracts';
import { BinanceSnapshotWriter, upsertBinanceSymbols, type BinancePriceChange, type Database } from '@ratewire/db';
import { errorMessage, type Logger, type NatsConnection } from '@ratewire/runtime';

import { FeedError } from '../feeds/feed-http.ts';
import type { PollResult } from '../feeds/feed-poller.ts';
import type { BinanceClient } from './binance.client.ts';
import { BinanceParseError, parseExchangeInfo, parseTickerPrices, type PriceSnapshot } from './binance.parser.ts';

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

export interface FetchedSnapshot {
  snapshot: PriceSnapshot;
  /** What the symbol-list refresh did, for the summary line ('' when it was not due). */
  symbolsNote: string;
}

export class BinanceService {
  private readonly deps: BinanceServiceDeps;
  private readonly writer: BinanceSnapshotWriter;
  private symbolsDueAt = 0;
  /**
   * The symbols the latest exchangeInfo lists as TRADING: change events (and so the channels) name
   * only these, as the reads do. Null until a list was read (nothing is held back then).
   */
  private trading: Set<string> | null = null;

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
    const fetched = await this.fetchSnapshot(signal);
    const observedAt = this.deps.now?.() ?? new Date();
    const changed = await this.write({
      symbols: fetched.snapshot.symbols,
      prices: fetched.snapshot.prices,
      observedAt,
    });
    return this.pollResult(fetched, changed.length);
  }

  /** The symbol list when due, then every price (ticker/price), parsed; nothing written yet. */
  async fetchSnapshot(signal: AbortSignal): Promise<FetchedSnapshot> {
    const symbolsNote = await this.refreshSymbolsIfDue(signal);
    const snapshot = parse(parseTickerPrices, await this.deps.client.tickerPrices(signal));
    if (signal.aborted) throw new FeedError('aborted', 'poll aborted before writing');
    this.deps.log.debug({ weight: this.deps.client.lastUsedWeight }, 'binance weight');
    return { snapshot, symbolsNote };
  }

  /** The poll's summary line, and the pause the exchange asked for. */
  pollResult(fetched: FetchedSnapshot, changed: number, note = ''): PollResult {
    const { snapshot, symbolsNote } = fetched;
    const skipped = snapshot.skippedZero + snapshot.skippedSymbol;
    const { notBefore } = this.deps.client;
    return {
      summary: `${snapshot.symbols.length} prices${note}, ${changed} changed${skipped ? `, ${skipped} skipped` : ''}${symbolsNote}`,
      ...(notBefore ? { notBefore } : {}),
    };
  }

  /**
   * Persists prices (a whole snapshot, or the symbols of one stream frame) and publishes what
   * changed once it committed: the one write path of polling and the stream alike.
   */
  async write(update: { symbols: string[]; prices: string[]; observedAt: Date }): Promise<BinancePriceChange[]> {
    const changed = await this.writer.persist(update);
    this.publish(update.observedAt, changed);
    return changed;
  }

  /** Refreshes the symbol list (exchangeInfo) when an hour has passed; '' when it was not due. */
  async refreshSymbolsIfDue(signal: AbortSignal): Promise<string> {
    return Date.now() >= this.symbolsDueAt ? this.refreshSymbols(signal) : '';
  }

  private async refreshSymbols(signal: AbortSignal): Promise<string> {
    const { client, db, log } = this.deps;
    try {
      const info = parse(parseExchangeInfo, await client.exchangeInfo(signal));
      if (info.weightLimit) client.weightLimit = info.weightLimit;
      const changed = await upsertBinanceSymbols(db, info.symbols);
      this.trading = new Set(info.symbols.filter((s) => s.status === 'TRADING').map((s) => s.symbol));
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

  private publish(observedAt: Date, all: BinancePriceChange[]): void {
    // halted and delisted pairs keep a price (stored, and read with ?status=all) but are not announced
    const trading = this.trading;
    const changed = trading ? all.filter((c) => trading.has(c.symbol)) : all;
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
