import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  fixturePath,
  formatCbrDate,
  listCbrDailyFixtures,
  loadFixture,
  parseCbrDate,
  resolveCbrDailyFixture,
} from './fixtures.ts';
import type { ReplayRequest, ReplayResponse } from './responses.ts';

/** Fixtures the default Binance routes serve (paths relative to the fixtures dir). */
export interface BinanceFixtures {
  /** `GET /api/v3/ticker/price`; default `binance/ticker_price_gururajo-project-crypto.json`. */
  tickerPrice?: string;
  /** `GET /api/v3/ticker/24hr`; default `binance/ticker_24hr_gururajo-project-crypto.json`. */
  ticker24hr?: string;
  /** `GET /api/v3/exchangeInfo`; default `binance/exchangeInfo_trimmed_nautilus.json`. */
  exchangeInfo?: string;
}

export interface FeedConfig {
  fixturesDir: string;
  /** CBR's "today" (`YYYY-MM-DD`): no date_req and later dates resolve as of this day. Default: no limit. */
  cbrToday?: string;
  binance: Required<BinanceFixtures>;
}

export const DEFAULT_BINANCE_FIXTURES: Required<BinanceFixtures> = {
  tickerPrice: 'binance/ticker_price_gururajo-project-crypto.json',
  ticker24hr: 'binance/ticker_24hr_gururajo-project-crypto.json',
  exchangeInfo: 'binance/exchangeInfo_trimmed_nautilus.json',
};

const XML_DECL = '<?xml version="1.0" encoding="windows-1251"?>';

/** The answer with no rates that CBR gives for a date before its data. */
export function emptyValCurs(isoDate: string): string {
  return `${XML_DECL}<ValCurs Date="${formatCbrDate(isoDate)}" name="Foreign Currency Market"></ValCurs>`;
}

const badRequest = (message: string): ReplayResponse => ({
  status: 400,
  contentType: 'text/plain; charset=utf-8',
  body: `replay server: ${message}\n`,
});

export const binanceError = (status: number, code: number, msg: string): ReplayResponse => ({
  status,
  json: { code, msg },
});

function cbrDaily(req: ReplayRequest, kind: 'daily' | 'eng', cfg: FeedConfig): ReplayResponse {
  const raw = req.query.get('date_req');
  let date = cfg.cbrToday ?? '9999-12-31';
  if (raw !== null && raw !== '') {
    const parsed = parseCbrDate(raw);
    // Real CBR is lenient here; a test server that says so loudly catches a poller's format bug.
    if (!parsed) return badRequest(`date_req must be dd/mm/yyyy, got ${JSON.stringify(raw)}`);
    if (parsed < date) date = parsed;
  }
  const found = resolveCbrDailyFixture(date, kind, cfg.fixturesDir);
  if (found) return { fixture: found.path };
  return { body: emptyValCurs(date === '9999-12-31' ? new Date().toISOString().slice(0, 10) : date) };
}

const tag = (block: string, name: string) => new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(block)?.[1];

/**
 * `XML_dynamic.asp?date_req1=&date_req2=&VAL_NM_RQ=`: the recorded file when the query names one
 * exactly, otherwise assembled from the recorded records of that currency: the daily fixtures
 * (one record per effective date) and the recorded dynamic files, within the range.
 */
function cbrDynamic(req: ReplayRequest, cfg: FeedConfig): ReplayResponse {
  const from = parseCbrDate(req.query.get('date_req1') ?? '');
  const to = parseCbrDate(req.query.get('date_req2') ?? '');
  const id = req.query.get('VAL_NM_RQ') ?? '';
  if (!from || !to || !/^R[0-9A-Z]+$/.test(id)) {
    return badRequest('XML_dynamic.asp needs date_req1 and date_req2 (dd/mm/yyyy) and VAL_NM_RQ (e.g. R01235)');
  }
  const exact = `cbr/XML_dynamic_${id}_${from}_${to}.xml`;
  if (existsSync(fixturePath(exact, cfg.fixturesDir))) return { fixture: exact };

  const records = new Map<string, string>();
  for (const f of listCbrDailyFixtures('daily', cfg.fixturesDir)) {
    if (f.date < from || f.date > to) continue;
    const text = loadFixture(f.path, cfg.fixturesDir).toString('latin1');
    const block = new RegExp(`<Valute ID="${id}">([\\s\\S]*?)</Valute>`).exec(text)?.[1];
    const nominal = block && tag(block, 'Nominal');
    const value = block && tag(block, 'Value');
    if (!nominal || !value) continue;
    const unit = block && tag(block, 'VunitRate');
    records.set(
      f.date,
      `<Record Date="${formatCbrDate(f.date)}" Id="${id}"><Nominal>${nominal}</Nominal><Value>${value}</Value>` +
        `${unit ? `<VunitRate>${unit}</VunitRate>` : ''}</Record>`,
    );
  }
  const cbrDir = resolve(cfg.fixturesDir, 'cbr');
  for (const name of readdirSync(cbrDir)) {
    if (!name.startsWith(`XML_dynamic_${id}_`)) continue;
    const text = loadFixture(`cbr/${name}`, cfg.fixturesDir).toString('latin1');
    for (const m of text.matchAll(/<Record Date="(\d\d)\.(\d\d)\.(\d{4})"[\s\S]*?<\/Record>/g)) {
      const date = `${m[3]}-${m[2]}-${m[1]}`;
      if (date >= from && date <= to) records.set(date, m[0]);
    }
  }
  const body =
    `${XML_DECL}<ValCurs ID="${id}" DateRange1="${formatCbrDate(from)}" DateRange2="${formatCbrDate(to)}" ` +
    `name="Foreign Currency Market Dynamic">${[...records.keys()]
      .sort()
      .map((d) => records.get(d))
      .join('')}</ValCurs>`;
  return { body: Buffer.from(body, 'latin1') };
}

const parsedJson = new Map<string, unknown>();
function fixtureJson(rel: string, dir: string): unknown {
  const abs = fixturePath(rel, dir);
  if (!parsedJson.has(abs)) parsedJson.set(abs, JSON.parse(loadFixture(rel, dir).toString('utf8')));
  return parsedJson.get(abs);
}

const SYMBOL = /^[A-Z0-9\-_.]{1,20}$/;

/** The `symbol` / `symbols` selection of a Binance market-data request, or the error Binance gives. */
function symbolSelection(q: URLSearchParams): { symbols?: string[]; single: boolean } | { error: ReplayResponse } {
  const symbol = q.get('symbol');
  const symbols = q.get('symbols');
  if (symbol !== null && symbols !== null) {
    return { error: binanceError(400, -1128, 'Combination of optional parameters invalid.') };
  }
  if (symbol !== null) {
    if (!SYMBOL.test(symbol)) {
      return {
        error: binanceError(
          400,
          -1100,
          "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
        ),
      };
    }
    return { symbols: [symbol], single: true };
  }
  if (symbols !== null) {
    let list: unknown;
    try {
      list = JSON.parse(symbols);
    } catch {
      list = undefined;
    }
    if (!Array.isArray(list) || !list.every((s): s is string => typeof s === 'string' && SYMBOL.test(s))) {
      return {
        error: binanceError(
          400,
          -1100,
          `Illegal characters found in parameter 'symbols'; legal range is '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'.`,
        ),
      };
    }
    return { symbols: list, single: false };
  }
  return { single: false };
}

const symbolOf = (entry: unknown) =>
  typeof entry === 'object' && entry !== null ? (entry as { symbol?: unknown }).symbol : undefined;

/** Serves a whole-market array fixture, or the entries the request selects. */
function binanceList(req: ReplayRequest, rel: string, cfg: FeedConfig): ReplayResponse {
  const sel = symbolSelection(req.query);
  if ('error' in sel) return sel.error;
  if (!sel.symbols) return { fixture: rel };
  const all = fixtureJson(rel, cfg.fixturesDir);
  if (!Array.isArray(all)) throw new Error(`${rel} is not a JSON array`);
  const wanted = new Set(sel.symbols);
  const picked = all.filter((e) => wanted.has(symbolOf(e) as string));
  if (picked.length !== wanted.size) return binanceError(400, -1121, 'Invalid symbol.');
  return { json: sel.single ? picked[0] : picked };
}

function binanceExchangeInfo(req: ReplayRequest, cfg: FeedConfig): ReplayResponse {
  const rel = cfg.binance.exchangeInfo;
  const sel = symbolSelection(req.query);
  if ('error' in sel) return sel.error;
  if (!sel.symbols) return { fixture: rel };
  const info = fixtureJson(rel, cfg.fixturesDir) as { symbols?: unknown };
  const all: unknown[] = Array.isArray(info.symbols) ? info.symbols : [];
  const wanted = new Set(sel.symbols);
  const picked = all.filter((e) => wanted.has(symbolOf(e) as string));
  if (picked.length !== wanted.size) return binanceError(400, -1121, 'Invalid symbol.');
  return { json: { ...info, symbols: picked } };
}

/** The answer a route gives when the test scripted nothing for it. */
export function defaultFeedResponse(req: ReplayRequest, cfg: FeedConfig): ReplayResponse {
  switch (req.path) {
    case '/scripts/XML_daily.asp':
      return cbrDaily(req, 'daily', cfg);
    case '/scripts/XML_daily_eng.asp':
      return cbrDaily(req, 'eng', cfg);
    case '/scripts/XML_dynamic.asp':
      return cbrDynamic(req, cfg);
    case '/api/v3/ping':
      return { json: {} };
    case '/api/v3/time':
      return { json: { serverTime: Date.now() } };
    case '/api/v3/ticker/price':
      return binanceList(req, cfg.binance.tickerPrice, cfg);
    case '/api/v3/ticker/24hr':
      return binanceList(req, cfg.binance.ticker24hr, cfg);
    case '/api/v3/exchangeInfo':
      return binanceExchangeInfo(req, cfg);
    default:
      return {
        status: 404,
        contentType: 'text/plain; charset=utf-8',
        body: `replay server: no route for ${req.method} ${req.path}\n`,
      };
  }
}

/** Request weight Binance charges (spot API limits as documented in 2024-2025). */
export function binanceRequestWeight(req: ReplayRequest): number {
  const q = req.query;
  switch (req.path) {
    case '/api/v3/exchangeInfo':
      return 20;
    case '/api/v3/ticker/price':
      return q.has('symbol') ? 2 : 4;
    case '/api/v3/ticker/24hr': {
      if (q.has('symbol')) return 2;
      let n = Infinity;
      try {
        const list: unknown = JSON.parse(q.get('symbols') ?? '');
        if (Array.isArray(list)) n = list.length;
      } catch {
        // no or bad list: priced as all symbols
      }
      return n <= 20 ? 2 : n <= 100 ? 40 : 80;
    }
    default:
      return 1;
  }
}
