import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  brokenResponses,
  readFixture,
  replayBody,
  startReplayServer,
  type BrokenResponse,
  type ReplayServer,
} from './index.ts';

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const entries: BrokenResponse[] = Object.values(brokenResponses);
const cbrOriginal = readFixture('cbr/XML_daily_2024-11-09.xml');
const bodyOf = (e: BrokenResponse) => replayBody(e.responses[0]!);
const text = (e: BrokenResponse) => bodyOf(e).toString('latin1');
const usdBlocks = (e: BrokenResponse) => text(e).match(/<Valute ID="R01235">[\s\S]*?<\/Valute>/g) ?? [];
const prices = (e: BrokenResponse) => JSON.parse(bodyOf(e).toString('utf8')) as { symbol: string; price?: unknown }[];
const priceEntry = (e: BrokenResponse, symbol: string) => prices(e).find((p) => p.symbol === symbol);

/** Reads until the end, an error, or `limitMs`; reports the head of the answer and how far it got. */
function probe(url: string, limitMs: number) {
  return new Promise<{ status?: number; contentLength?: string; received: number; outcome: string }>((done) => {
    let status: number | undefined;
    let contentLength: string | undefined;
    let received = 0;
    const finish = (outcome: string) => {
      clearTimeout(timer);
      req.destroy();
      done({ status, contentLength, received, outcome });
    };
    const timer = setTimeout(() => finish(status === undefined ? 'no-headers' : 'stalled'), limitMs);
    const req = httpGet(url, (res) => {
      status = res.statusCode;
      contentLength = res.headers['content-length'];
      res.on('data', (b: Buffer) => (received += b.length));
      res.on('end', () => finish(received === Number(contentLength) ? 'complete' : 'short'));
      res.on('error', () => finish('aborted'));
      res.on('aborted', () => finish('aborted'));
    });
    req.on('error', () => finish('aborted'));
  });
}

describe('brokenResponses', () => {
  it('has at least 15 named entries for both feeds', () => {
    expect(entries.length).toBeGreaterThanOrEqual(15);
    for (const [key, e] of Object.entries(brokenResponses)) expect(e.name).toBe(key);
    expect(new Set(entries.map((e) => e.feed))).toEqual(new Set(['cbr', 'binance']));
    for (const e of entries) {
      expect(e.path).toBe(e.feed === 'cbr' ? '/scripts/XML_daily.asp' : '/api/v3/ticker/price');
      expect(e.responses.length).toBeGreaterThan(0);
    }
  });

  const normal = entries.filter((e) => e.kind !== 'timeout' && e.kind !== 'transport');
  it.each(normal.map((e) => [e.name, e]))('%s is served as declared', async (_name, e) => {
    server.respond(e.path, ...e.responses);
    const res = await fetch(server.url + e.path);
    const r = e.responses[0]!;
    expect(res.status).toBe(r.status ?? 200);
    expect(Buffer.from(await res.arrayBuffer()).equals(replayBody(r))).toBe(true);
    if (r.contentType) expect(res.headers.get('content-type')).toBe(r.contentType);
    for (const [name, value] of Object.entries(r.headers ?? {})) expect(res.headers.get(name)).toBe(String(value));
  });

  const transport = entries.filter((e) => e.kind === 'transport');
  it.each(transport.map((e) => [e.name, e]))('%s drops the connection mid-body', async (_name, e) => {
    server.respond(e.path, ...e.responses);
    const got = await probe(server.url + e.path, 5000);
    expect(got.status).toBe(200);
    expect(got.outcome).toMatch(/aborted|short/);
    expect(got.received).toBeLessThan(Number(got.contentLength));
  });

  const timeouts = entries.filter((e) => e.kind === 'timeout');
  it.each(timeouts.map((e) => [e.name, e]))('%s does not finish within a second', async (_name, e) => {
    server.respond(e.path, ...e.responses);
    const got = await probe(server.url + e.path, 1000);
    expect(got.outcome).toMatch(/no-headers|stalled/);
    if (e.responses[0]?.hang === true) expect(got.status).toBeUndefined();
    else expect(got.received).toBeLessThan(Number(got.contentLength));
  });

  it('every timeout entry is slower than a 30 s deadline or never ends', () => {
    for (const e of timeouts) {
      const r = e.responses[0]!;
      if (r.trickle) expect((r.trickle.chunks - 1) * r.trickle.intervalMs).toBeGreaterThan(30_000);
      else expect(r.hang).toBeDefined();
    }
  });
});

describe('brokenResponses: the damage is real', () => {
  const b = brokenResponses;

  it('CBR value edits change USD only, as described', () => {
    expect(cbrOriginal.toString('latin1')).toContain('<Value>97,8335</Value><VunitRate>97,8335</VunitRate>');
    expect(usdBlocks(b.cbrDuplicateCurrency)).toHaveLength(2);
    expect(usdBlocks(b.cbrDuplicateCurrency)[1]).toContain('<Value>99,9999</Value><VunitRate>99,9999</VunitRate>');
    expect(usdBlocks(b.cbrZeroValue)[0]).toContain('<Value>0,0000</Value><VunitRate>0,0000</VunitRate>');
    expect(usdBlocks(b.cbrNegativeValue)[0]).toContain('<Value>-97,8335</Value>');
    expect(usdBlocks(b.cbrZeroNominal)[0]).toContain('<Nominal>0</Nominal>');
    expect(usdBlocks(b.cbrMissingValue)[0]).not.toMatch(/<Value>|<VunitRate>/);
    const garbage = text(b.cbrGarbageValues);
    expect(garbage).toContain('<Value>NaN</Value>');
    expect(garbage).toMatch(/<Valute ID="R01239">.*?<Value>1e2<\/Value>/);
    expect(garbage).toMatch(/<Valute ID="R01035">.*?<Value><\/Value>/);
    // Everything else (including the windows-1251 names) is byte-identical.
    const rest = (e: BrokenResponse) => text(e).replace(/<Valute ID="R01235">[\s\S]*?<\/Valute>/g, '');
    expect(rest(b.cbrZeroValue)).toBe(rest({ ...b.cbrZeroValue, responses: [{ body: cbrOriginal }] }));
  });

  it('CBR structural damage', () => {
    const truncated = bodyOf(b.cbrTruncatedXml);
    expect(truncated.length).toBeLessThan(cbrOriginal.length);
    expect(cbrOriginal.subarray(0, truncated.length).equals(truncated)).toBe(true);
    expect(text(b.cbrEmptyValCurs)).not.toContain('<Valute');
    expect(text(b.cbrEmptyValCurs)).toContain('<ValCurs Date="09.11.2024"');
    expect(bodyOf(b.cbrEmptyBody).length).toBe(0);
    expect(bodyOf(b.cbrHtmlErrorPage).toString('utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(bodyOf(b.cbrHugeBody).length).toBeGreaterThan(8 * 1024 * 1024);
    expect(text(b.cbrHugeBody).trimEnd()).toMatch(/<\/Valute>\s+<\/ValCurs>$/);
  });

  it('the UTF-8 body keeps its windows-1251 label', () => {
    const body = bodyOf(b.cbrUtf8LabelledWindows1251);
    expect(body.toString('utf8')).toContain('Австралийский доллар');
    expect(body.toString('latin1')).toMatch(/^<\?xml version="1.0" encoding="windows-1251"\?>/);
    expect(b.cbrUtf8LabelledWindows1251.responses[0]?.contentType).toMatch(/charset=windows-1251/);
  });

  it('Binance price edits touch only the named symbols', () => {
    const all = prices({
      ...b.binanceMissingPrice,
      responses: [{ fixture: b.binanceMissingPrice.responses[0]!.fixture! }],
    });
    expect(prices(b.binanceMissingPrice)).toHaveLength(all.length);
    expect(priceEntry(b.binanceMissingPrice, 'BTCUSDT')).toEqual({ symbol: 'BTCUSDT' });
    expect(priceEntry(b.binanceMissingPrice, 'ETHUSDT')).toEqual(all.find((p) => p.symbol === 'ETHUSDT'));
    expect(priceEntry(b.binanceGarbagePrices, 'BTCUSDT')?.price).toBe('abc');
    expect(priceEntry(b.binanceGarbagePrices, 'ETHUSDT')?.price).toBe(3412.5);
    expect(priceEntry(b.binanceGarbagePrices, 'BNBUSDT')?.price).toBeNull();
    expect(priceEntry(b.binanceZeroAndNegativePrices, 'BTCUSDT')?.price).toBe('0.00000000');
    expect(priceEntry(b.binanceZeroAndNegativePrices, 'ETHUSDT')?.price).toBe('-3412.50000000');
  });

  it('Binance shape and size damage', () => {
    expect(Array.isArray(JSON.parse(bodyOf(b.binanceObjectInsteadOfArray).toString('utf8')))).toBe(false);
    expect(() => JSON.parse(bodyOf(b.binanceNonJson).toString('utf8')) as unknown).toThrow();
    expect(() => JSON.parse(bodyOf(b.binanceTruncatedJson).toString('utf8')) as unknown).toThrow();
    expect(JSON.parse(bodyOf(b.binanceEmptyArray).toString('utf8'))).toEqual([]);
    expect(bodyOf(b.binanceEmptyBody).length).toBe(0);
    const huge = bodyOf(b.binanceHugeBody);
    expect(huge.length).toBeGreaterThan(8 * 1024 * 1024);
    expect((JSON.parse(huge.toString('utf8')) as unknown[]).length).toBe(1695);
  });
});
