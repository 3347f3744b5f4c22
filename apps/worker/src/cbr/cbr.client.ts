// CBR's XML_daily.asp: today's rates, or a past day's with date_req=dd/mm/yyyy.
import { feedGet, type FeedRequestOptions } from '../feeds/feed-http.ts';

// The real answer is ~8 KB; anything near this is not a CBR daily file.
const MAX_BYTES = 2 * 1024 * 1024;

export interface CbrClientOptions {
  baseUrl: string;
  timeoutMs?: number;
}

/** YYYY-MM-DD → dd/mm/yyyy, the format date_req takes. */
export function toDateReq(isoDate: string): string {
  const [y, m, d] = isoDate.split('-');
  return `${d}/${m}/${y}`;
}

export class CbrClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(options: CbrClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  dailyUrl(date?: string): string {
    const url = new URL(`${this.baseUrl}/scripts/XML_daily.asp`);
    if (date) url.searchParams.set('date_req', toDateReq(date));
    // URLSearchParams would escape the slashes; CBR takes them as they are
    return url.toString().replace(/%2F/g, '/');
  }

  /** The raw bytes of XML_daily.asp (optionally for a past `date`, YYYY-MM-DD). */
  async fetchDaily(date?: string, signal?: AbortSignal): Promise<Buffer> {
    const options: FeedRequestOptions = { timeoutMs: this.timeoutMs, maxBytes: MAX_BYTES, signal };
    const res = await feedGet(this.dailyUrl(date), options);
    return res.body;
  }
}
