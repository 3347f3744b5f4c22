import { describe, expect, it } from 'vitest';

import { readFixture } from '@ratewire/testkit/replay/fixtures';

import { BinanceParseError, parseExchangeInfo, parseTickerPrices } from './binance.parser.ts';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('parseTickerPrices', () => {
  it.each([
    ['binance/ticker_price_gururajo-project-crypto.json', 1695],
    ['binance/ticker_price_FoolsDuck-binance_bot.json', 341],
  ])('%s: every symbol with its price string untouched', (path, count) => {
    const raw = JSON.parse(readFixture(path).toString('utf8')) as { symbol: string; price: string }[];
    const snapshot = parseTickerPrices(readFixture(path));
    expect(snapshot.symbols).toHaveLength(count);
    expect(snapshot.prices).toEqual(raw.map((e) => e.price));
    expect(snapshot.symbols).toEqual(raw.map((e) => e.symbol));
  });

  it('keeps trailing zeros and tiny prices exactly as sent', () => {
    const s = parseTickerPrices(
      json([
        { symbol: 'SHIBUSDT', price: '0.00001000' },
        { symbol: 'BTCUSDT', price: '61234.50000000' },
      ]),
    );
    expect(s.prices).toEqual(['0.00001000', '61234.50000000']);
  });

  it('skips a zero price and a symbol outside the contract form, and counts them', () => {
    const s = parseTickerPrices(
      json([
        { symbol: 'BTCUSDT', price: '1.5' },
        { symbol: 'DEADBTC', price: '0.00000000' },
        { symbol: '币安人生USDT', price: '0.1' },
      ]),
    );
    expect(s).toEqual({ symbols: ['BTCUSDT'], prices: ['1.5'], skippedZero: 1, skippedSymbol: 1 });
  });

  it.each([
    ['the single-symbol object', readFixture('binance/ticker_price_single_nautilus.json'), /expected an array/],
    ['null', json(null), /expected an array/],
    ['a missing price', json([{ symbol: 'BTCUSDT' }]), /0\.price/],
    ['a null price', json([{ symbol: 'BTCUSDT', price: null }]), /0\.price/],
    ['an exponent', json([{ symbol: 'BTCUSDT', price: '1e5' }]), /not a decimal/],
    ['a negative price', json([{ symbol: 'BTCUSDT', price: '-1' }]), /not a decimal/],
    ['whitespace', json([{ symbol: 'BTCUSDT', price: ' 1.0' }]), /not a decimal/],
    [
      'a duplicate',
      json([
        { symbol: 'A1', price: '1' },
        { symbol: 'A1', price: '1' },
      ]),
      /duplicate/,
    ],
    ['only zeros', json([{ symbol: 'A1', price: '0' }]), /no usable prices/],
    ['invalid UTF-8', Buffer.from([0x5b, 0xff, 0x5d]), /not JSON/],
  ])('rejects %s', (_name, body, message) => {
    expect(() => parseTickerPrices(body)).toThrow(BinanceParseError);
    expect(() => parseTickerPrices(body)).toThrow(message);
  });
});

describe('parseExchangeInfo', () => {
  it.each([
    ['binance/exchangeInfo_SM2A-Binance_API.json', 2292, 6000],
    ['binance/exchangeInfo_oiovoyo-go-binance.json', 265, 1200],
    ['binance/exchangeInfo_trimmed_nautilus.json', 2, 1200],
  ])('%s: %i symbols, weight limit %i', (path, count, limit) => {
    const info = parseExchangeInfo(readFixture(path));
    expect(info.symbols).toHaveLength(count);
    expect(info.weightLimit).toBe(limit);
    expect(info.symbols.every((s) => s.status.length > 0 && s.baseAsset.length > 0)).toBe(true);
  });

  it('rejects an answer without symbols', () => {
    expect(() => parseExchangeInfo(json({ rateLimits: [] }))).toThrow(/symbols/);
  });
});
