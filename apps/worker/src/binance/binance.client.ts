// Binance market data, called the way the exchange asks: every call has a timeout, the used
// weight (X-MBX-USED-WEIGHT-1M) is read after each answer, and after a 429/418 nothing is
// called until Retry-After has passed (the exchange bans IPs that keep calling).
import { FeedError, feedGet, type FeedResponse } from '../feeds/feed-http.ts';

// Size caps, far above the real answers: ticker/price for all symbols is ~120-200 KB (4 MB cap),
// the full exchangeInfo ~4 MB (20 MB cap). A body past its cap is aborted while it downloads.
export const MAX_BYTES = { tickerPrice: 4 * 1024 * 1024, exchangeInfo: 20 * 1024 * 1024 } as const;
/** Weights of the calls we make (Binance spot API documentation). */
export const WEIGHT = { tickerPriceAll: 4, exchangeInfo: 20 } as const;
const DEFAULT_WEIGHT_LIMIT = 6000;
/** Keep this share of the per-minute weight for others sharing the IP. */
const WEIGHT_HEADROOM = 0.9;

export interface BinanceClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  now?: () => number;
}

export class BinanceClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private pausedUntil = 0;
  private usedWeight = 0;
  private weightMinute = 0;
  weightLimit = DEFAULT_WEIGHT_LIMIT;

  constructor(options: BinanceClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** When set, no call may be made before this instant (Retry-After, or the weight nearly used). */
  get notBefore(): Date | undefined {
    return this.pausedUntil > this.now() ? new Date(this.pausedUntil) : undefined;
  }

  get lastUsedWeight(): number {
    return this.usedWeight;
  }

  async tickerPrices(signal?: AbortSignal): Promise<Buffer> {
    return (await this.get('/api/v3/ticker/price', WEIGHT.tickerPriceAll, MAX_BYTES.tickerPrice, signal)).body;
  }

  async exchangeInfo(signal?: AbortSignal): Promise<Buffer> {
    return (await this.get('/api/v3/exchangeInfo', WEIGHT.exchangeInfo, MAX_BYTES.exchangeInfo, signal)).body;
  }

  private async get(path: string, weight: number, maxBytes: number, signal?: AbortSignal): Promise<FeedResponse> {
    const now = this.now();
    if (this.pausedUntil > now) {
      const retryAt = new Date(this.pausedUntil);
      throw new FeedError('rate-limited', `calls paused until ${retryAt.toISOString()}`, { retryAt });
    }
    // our own count says the minute's budget is nearly gone: wait for the next minute
    const minute = Math.floor(now / 60_000);
    if (minute === this.weightMinute && this.usedWeight + weight > this.weightLimit * WEIGHT_HEADROOM) {
      this.pausedUntil = (minute + 1) * 60_000 + 1000;
      const retryAt = new Date(this.pausedUntil);
      throw new FeedError(
        'rate-limited',
        `request weight nearly used (${this.usedWeight}/${this.weightLimit}); waiting until ${retryAt.toISOString()}`,
        { retryAt },
      );
    }
    try {
      const res = await feedGet(`${this.baseUrl}${path}`, { timeoutMs: this.timeoutMs, maxBytes, signal });
      this.readWeight(res.headers['x-mbx-used-weight-1m']);
      return res;
    } catch (err) {
      if (err instanceof FeedError && err.retryAt) this.pausedUntil = Math.max(this.pausedUntil, err.retryAt.getTime());
      throw err;
    }
  }

  private readWeight(header: string | string[] | undefined): void {
    const raw = Array.isArray(header) ? header[0] : header;
    if (!raw || !/^\d{1,9}$/.test(raw.trim())) return;
    const now = this.now();
    this.usedWeight = Number.parseInt(raw, 10);
    this.weightMinute = Math.floor(now / 60_000);
    // close to the limit: the next call (up to the heaviest we make) waits for the next minute
    if (this.usedWeight + WEIGHT.exchangeInfo > this.weightLimit * WEIGHT_HEADROOM) {
      this.pausedUntil = Math.max(this.pausedUntil, (this.weightMinute + 1) * 60_000 + 1000);
    }
  }
}
