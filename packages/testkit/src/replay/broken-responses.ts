import { spliceBytes } from './fixtures.ts';
import { CBR_XML_CONTENT_TYPE, type ReplayResponse } from './responses.ts';
import { emptyValCurs } from './feeds.ts';

export type BrokenKind =
  /** 4xx/5xx answer. */
  | 'http-error'
  /** No answer, or not all of it, within any sensible deadline. */
  | 'timeout'
  /** The connection is dropped mid-answer. */
  | 'transport'
  /** The body does not parse as the format it should be. */
  | 'malformed'
  /** The bytes are not in the charset the answer declares. */
  | 'encoding'
  /** Parses, but holds no rates. */
  | 'empty'
  /** Parses, but a value or the shape is wrong. */
  | 'invalid-data'
  /** Well formed but far larger than the real answer (a client should cap what it reads). */
  | 'oversize';

export interface BrokenResponse {
  /** The key in brokenResponses. */
  name: string;
  feed: 'cbr' | 'binance';
  /** The route it stands in for: `server.respond(entry.path, ...entry.responses)`. */
  path: string;
  kind: BrokenKind;
  /** What is wrong, fit for a test title. */
  description: string;
  /** The answers, in order (the last repeats); append `{ useDefault: true }` to let the feed recover. */
  responses: ReplayResponse[];
}

const CBR_DAILY = '/scripts/XML_daily.asp';
const BINANCE_PRICE = '/api/v3/ticker/price';
/** The newest recorded CBR answer (windows-1251, 43 currencies, with VunitRate). */
const CBR_FIXTURE = 'cbr/XML_daily_2024-11-09.xml';
const BINANCE_FIXTURE = 'binance/ticker_price_gururajo-project-crypto.json';
const HTML = 'text/html; charset=utf-8';
const EIGHT_MIB = 8 * 1024 * 1024;

/** Rewrites the `<Valute ID="…">` block of one currency (USD is R01235, EUR R01239, GBP R01035). */
const editValute =
  (id: string, edit: (block: string) => string) =>
  (bytes: Buffer): Buffer => {
    const text = bytes.toString('latin1');
    const block = new RegExp(`<Valute ID="${id}">[\\s\\S]*?</Valute>`).exec(text)?.[0];
    if (!block) throw new Error(`broken response: no Valute ${id} in the fixture`);
    const edited = edit(block);
    if (edited === block) throw new Error(`broken response: the edit of Valute ${id} changed nothing`);
    return spliceBytes(bytes, block, edited);
  };

const setTag = (name: string, value: string) => (block: string) =>
  block.replace(new RegExp(`<${name}>[^<]*</${name}>`), `<${name}>${value}</${name}>`);

/** Sets Value and (when present) VunitRate, so a parser reading either sees the bad number. */
const setRate = (value: string) => (block: string) => setTag('VunitRate', value)(setTag('Value', value)(block));

interface PriceEntry {
  symbol: string;
  price?: unknown;
}
/** Rewrites the recorded all-symbols price list (served compact, as Binance does). */
const editPrices =
  (edit: (entries: PriceEntry[]) => void) =>
  (bytes: Buffer): Buffer => {
    const entries = JSON.parse(bytes.toString('utf8')) as PriceEntry[];
    edit(entries);
    return Buffer.from(JSON.stringify(entries), 'utf8');
  };
const entry = (entries: PriceEntry[], symbol: string): PriceEntry => {
  const found = entries.find((e) => e.symbol === symbol);
  if (!found) throw new Error(`broken response: no ${symbol} in the fixture`);
  return found;
};

const htmlPage = (title: string) =>
  `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body><h1>${title}</h1><p>Please try again later.</p></body></html>\n`;

function catalogue<K extends string>(entries: Record<K, Omit<BrokenResponse, 'name'>>): Record<K, BrokenResponse> {
  const out = {} as Record<K, BrokenResponse>;
  for (const name of Object.keys(entries) as K[]) out[name] = { name, ...entries[name] };
  return out;
}

/**
 * Canned broken answers of both feeds, built from the recorded fixtures at serve time.
 * Iterate with `Object.values(brokenResponses)` (filter by `feed` / `kind`).
 */
export const brokenResponses = catalogue({
  // ---- CBR (GET /scripts/XML_daily.asp) --------------------------------------------------------
  cbrHtmlErrorPage: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'malformed',
    description: 'HTML error page with status 200',
    responses: [{ status: 200, contentType: HTML, body: htmlPage('Service temporarily unavailable') }],
  },
  cbrTruncatedXml: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'malformed',
    description: 'XML cut off in the middle, connection closed cleanly (Content-Length matches)',
    responses: [{ fixture: CBR_FIXTURE, transform: (b) => b.subarray(0, Math.floor(b.length * 0.6)) }],
  },
  cbrConnectionDropped: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'transport',
    description: 'socket destroyed after half the body (Content-Length promised more)',
    responses: [{ fixture: CBR_FIXTURE, destroy: true }],
  },
  cbrUtf8LabelledWindows1251: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'encoding',
    description: 'UTF-8 bytes served as windows-1251 (header and XML declaration both say windows-1251)',
    responses: [{ fixture: 'cbr/reencoded/XML_daily_2021-11-24.xml', contentType: CBR_XML_CONTENT_TYPE }],
  },
  cbrEmptyValCurs: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'empty',
    description: 'valid ValCurs without any Valute',
    responses: [{ body: emptyValCurs('2024-11-09') }],
  },
  cbrEmptyBody: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'empty',
    description: 'status 200 with an empty body',
    responses: [{ status: 200, body: '' }],
  },
  cbrDuplicateCurrency: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'invalid-data',
    description: 'USD (R01235) listed twice with different values',
    responses: [
      {
        fixture: CBR_FIXTURE,
        transform: editValute('R01235', (usd) => usd + setRate('99,9999')(usd)),
      },
    ],
  },
  cbrZeroValue: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'invalid-data',
    description: 'USD Value and VunitRate 0,0000',
    responses: [{ fixture: CBR_FIXTURE, transform: editValute('R01235', setRate('0,0000')) }],
  },
  cbrNegativeValue: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'invalid-data',
    description: 'USD Value and VunitRate -97,8335',
    responses: [{ fixture: CBR_FIXTURE, transform: editValute('R01235', setRate('-97,8335')) }],
  },
  cbrGarbageValues: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'invalid-data',
    description: 'non-numbers in Value: USD "NaN", EUR "1e2", GBP empty',
    responses: [
      {
        fixture: CBR_FIXTURE,
        transform: (b) =>
          editValute(
            'R01035',
            setRate(''),
          )(editValute('R01239', setRate('1e2'))(editValute('R01235', setRate('NaN'))(b))),
      },
    ],
  },
  cbrZeroNominal: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'invalid-data',
    description: 'USD Nominal 0 (a unit rate would divide by zero)',
    responses: [{ fixture: CBR_FIXTURE, transform: editValute('R01235', setTag('Nominal', '0')) }],
  },
  cbrMissingValue: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'invalid-data',
    description: 'USD Valute without Value and VunitRate elements',
    responses: [
      {
        fixture: CBR_FIXTURE,
        transform: editValute('R01235', (usd) => usd.replace(/<Value>[^<]*<\/Value><VunitRate>[^<]*<\/VunitRate>/, '')),
      },
    ],
  },
  cbrTooManyRequests: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'http-error',
    description: '429 with Retry-After: 2',
    responses: [
      { status: 429, headers: { 'Retry-After': '2' }, contentType: HTML, body: htmlPage('Too Many Requests') },
    ],
  },
  cbrServerError: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'http-error',
    description: '500 with an HTML body',
    responses: [{ status: 500, contentType: HTML, body: htmlPage('Internal Server Error') }],
  },
  cbrHang: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'timeout',
    description: 'accepts the connection and never answers',
    responses: [{ hang: true }],
  },
  cbrStallMidBody: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'timeout',
    description: 'sends headers and 1000 body bytes, then nothing',
    responses: [{ fixture: CBR_FIXTURE, hang: { afterBytes: 1000 } }],
  },
  cbrTrickle: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'timeout',
    description: 'valid body in 120 pieces every 500 ms (~60 s; never idle long enough for a socket timeout)',
    responses: [{ fixture: CBR_FIXTURE, trickle: { chunks: 120, intervalMs: 500 } }],
  },
  cbrHugeBody: {
    feed: 'cbr',
    path: CBR_DAILY,
    kind: 'oversize',
    description: 'valid XML padded with 8 MiB of whitespace inside ValCurs',
    responses: [
      {
        fixture: CBR_FIXTURE,
        transform: (b) => spliceBytes(b, '</ValCurs>', `${' '.repeat(EIGHT_MIB - 1)}\n</ValCurs>`),
      },
    ],
  },

  // ---- Binance (GET /api/v3/ticker/price) ------------------------------------------------------
  binanceTooManyRequests: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'http-error',
    description: '429 -1003 with Retry-After: 2',
    responses: [
      {
        status: 429,
        headers: { 'Retry-After': '2', 'X-MBX-USED-WEIGHT-1M': '6004' },
        json: {
          code: -1003,
          msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.',
        },
      },
    ],
  },
  binanceIpBanned: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'http-error',
    description: '418 -1003 (IP banned) with Retry-After: 120',
    responses: [
      {
        status: 418,
        headers: { 'Retry-After': '120' },
        json: {
          code: -1003,
          msg: 'Way too much request weight used; IP banned until 1731150000000. Please use WebSocket Streams for live updates to avoid bans.',
        },
      },
    ],
  },
  binanceServerError: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'http-error',
    description: '500 -1001 internal error',
    responses: [
      {
        status: 500,
        json: { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' },
      },
    ],
  },
  binanceNonJson: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'malformed',
    description: 'HTML page with status 200 instead of JSON',
    responses: [{ status: 200, contentType: HTML, body: htmlPage('502 Bad Gateway') }],
  },
  binanceTruncatedJson: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'malformed',
    description: 'JSON cut off in the middle, connection closed cleanly (Content-Length matches)',
    responses: [{ fixture: BINANCE_FIXTURE, transform: (b) => b.subarray(0, Math.floor(b.length / 3)) }],
  },
  binanceConnectionDropped: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'transport',
    description: 'socket destroyed after half the body (Content-Length promised more)',
    responses: [{ fixture: BINANCE_FIXTURE, destroy: true }],
  },
  binanceObjectInsteadOfArray: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'invalid-data',
    description: 'a single-symbol object where the all-symbols array belongs',
    responses: [{ fixture: 'binance/ticker_price_single_nautilus.json' }],
  },
  binanceMissingPrice: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'invalid-data',
    description: 'BTCUSDT entry without its price',
    responses: [
      {
        fixture: BINANCE_FIXTURE,
        transform: editPrices((all) => {
          delete entry(all, 'BTCUSDT').price;
        }),
      },
    ],
  },
  binanceGarbagePrices: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'invalid-data',
    description: 'BTCUSDT price "abc", ETHUSDT price as a JSON number, BNBUSDT price null',
    responses: [
      {
        fixture: BINANCE_FIXTURE,
        transform: editPrices((all) => {
          entry(all, 'BTCUSDT').price = 'abc';
          entry(all, 'ETHUSDT').price = 3412.5;
          entry(all, 'BNBUSDT').price = null;
        }),
      },
    ],
  },
  binanceZeroAndNegativePrices: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'invalid-data',
    description: 'BTCUSDT price "0.00000000", ETHUSDT price "-3412.50000000"',
    responses: [
      {
        fixture: BINANCE_FIXTURE,
        transform: editPrices((all) => {
          entry(all, 'BTCUSDT').price = '0.00000000';
          entry(all, 'ETHUSDT').price = '-3412.50000000';
        }),
      },
    ],
  },
  binanceEmptyArray: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'empty',
    description: 'an empty array',
    responses: [{ json: [] }],
  },
  binanceEmptyBody: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'empty',
    description: 'status 200 with an empty body',
    responses: [{ status: 200, body: '' }],
  },
  binanceHang: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'timeout',
    description: 'accepts the connection and never answers',
    responses: [{ hang: true }],
  },
  binanceTrickle: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'timeout',
    description: 'valid body in 120 pieces every 500 ms (~60 s; never idle long enough for a socket timeout)',
    responses: [{ fixture: BINANCE_FIXTURE, trickle: { chunks: 120, intervalMs: 500 } }],
  },
  binanceHugeBody: {
    feed: 'binance',
    path: BINANCE_PRICE,
    kind: 'oversize',
    description: 'valid price list padded with 8 MiB of whitespace',
    responses: [
      {
        fixture: BINANCE_FIXTURE,
        transform: (b) => {
          const end = b.lastIndexOf(']');
          if (end < 0) throw new Error('broken response: the price list has no closing ]');
          return Buffer.concat([b.subarray(0, end), Buffer.alloc(EIGHT_MIB, ' '), b.subarray(end)]);
        },
      },
    ],
  },
});

export type BrokenResponseName = keyof typeof brokenResponses;
