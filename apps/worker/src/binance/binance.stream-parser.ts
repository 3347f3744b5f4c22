// Validates the frames of Binance's all-market mini-ticker stream, combined-stream form
// (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
//
//   {"stream":"!miniTicker@arr","data":[{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC",
//     "c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}, ...]}
//
// `c` (close) is the last price, kept as the decimal string sent; `E` is the event time (ms).
// Choices (covered by binance.stream-parser.spec.ts and test/binance.stream.spec.ts):
// - A frame that is not UTF-8 JSON, over the size cap, not from `!miniTicker@arr`, or whose `data`
//   is not an array is dropped whole. A frame is a set of independent updates, so (unlike a
//   ticker/price answer) one bad entry drops that entry only: the good ones are kept.
// - An entry's price goes through the same check as the REST answer (checkBinancePrice): not a
//   plain decimal → dropped; zero or a symbol outside the contracts' form → skipped.
// - A symbol listed twice in one frame keeps its newest event.
// - `serverShutdown` (sent before the server disconnects) is recognised bare, as the WebSocket API
//   wraps it (`{"event":{...}}`) and inside a combined-stream wrapper.
import { MAX_ENTRIES, checkBinancePrice } from './binance.parser.ts';

export const MINI_TICKER_STREAM = '!miniTicker@arr';
/** The real frame for ~2,500 symbols is ~400 KB; anything past this is not parsed. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

export interface StreamTick {
  symbol: string;
  /** The last price (`c`), exactly as sent. */
  price: string;
  /** `E`, ms since the epoch. */
  eventTime: number;
}

export type StreamFrame =
  | {
      kind: 'tickers';
      ticks: StreamTick[];
      /** Malformed entries (not an object, wrong event type, bad `E`, price not a decimal…). */
      dropped: number;
      /** Well-formed entries not stored: zero price, symbol outside the contracts' form. */
      skipped: number;
      /** What was wrong with the first dropped entry, for the log. */
      issue?: string;
    }
  | { kind: 'shutdown'; eventTime: number | undefined }
  /** A reply to a request (`{"result":null,"id":1}`): we send none, so nothing to do. */
  | { kind: 'reply' }
  | { kind: 'invalid'; reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEventTime = (v: unknown): v is number =>
  Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= 8.64e15;
const preview = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);

function shutdownIn(v: Record<string, unknown>): StreamFrame | undefined {
  const event = isObject(v.event) ? v.event : isObject(v.data) ? v.data : v;
  if (event.e !== 'serverShutdown') return undefined;
  return { kind: 'shutdown', eventTime: isEventTime(event.E) ? event.E : undefined };
}

/** One text frame of the combined `!miniTicker@arr` stream. Never throws. */
export function parseStreamFrame(data: Buffer | string, maxBytes = MAX_FRAME_BYTES): StreamFrame {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > maxBytes) return { kind: 'invalid', reason: `frame of ${size} bytes, over the ${maxBytes}-byte cap` };
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  } catch {
    const start = (typeof data === 'string' ? data : data.subarray(0, 40).toString('latin1')).slice(0, 40);
    return { kind: 'invalid', reason: `not JSON (${size} bytes, starts ${preview(start)})` };
  }
  if (!isObject(json))
    return {
      kind: 'invalid',
      reason: `expected an object, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`,
    };
  const shutdown = shutdownIn(json);
  if (shutdown) return shutdown;
  if ('result' in json && 'id' in json) return { kind: 'reply' };
  if (json.stream !== MINI_TICKER_STREAM) {
    return {
      kind: 'invalid',
      reason: `not the ${MINI_TICKER_STREAM} stream (stream ${typeof json.stream === 'string' ? preview(json.stream) : String(json.stream)})`,
    };
  }
  if (!Array.isArray(json.data)) return { kind: 'invalid', reason: 'data is not an array' };
  if (json.data.length > MAX_ENTRIES)
    return { kind: 'invalid', reason: `${json.data.length} entries, over ${MAX_ENTRIES}` };

  const bySymbol = new Map<string, StreamTick>();
  let dropped = 0;
  let skipped = 0;
  let issue: string | undefined;
  const drop = (why: string) => {
    dropped += 1;
    issue ??= why;
  };
  json.data.forEach((entry: unknown, i) => {
    if (!isObject(entry)) return drop(`data.${i}: not an object`);
    const { e, E, s, c } = entry;
    if (e !== '24hrMiniTicker') return drop(`data.${i}: event type ${typeof e === 'string' ? preview(e) : String(e)}`);
    if (!isEventTime(E)) return drop(`data.${i}: E is not a time in ms`);
    if (typeof s !== 'string' || s.length === 0 || s.length > 60) return drop(`data.${i}: s is not a symbol`);
    if (typeof c !== 'string' || c.length > 70) return drop(`data.${i}: c is not a price string`);
    const check = checkBinancePrice(s, c);
    if (check === 'price') return drop(`data.${i}: ${preview(s)} price ${preview(c)} is not a decimal`);
    if (check !== 'ok') {
      skipped += 1;
      return;
    }
    const before = bySymbol.get(s);
    if (before) {
      dropped += 1;
      if (before.eventTime >= E) return;
    }
    bySymbol.set(s, { symbol: s, price: c, eventTime: E });
  });
  return { kind: 'tickers', ticks: [...bySymbol.values()], dropped, skipped, ...(issue ? { issue } : {}) };
}
