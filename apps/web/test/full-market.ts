// A full Binance market for the replay server: the recorded ticker/price answer's symbols (those
// with a real price) and made-up ones up to `size`, every one TRADING in an exchangeInfo of the same
// symbols, written to a folder of its own. The recorded exchangeInfo lists only a few symbols as
// TRADING, where Binance itself lists about 2,519.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_BINANCE_FIXTURES, readFixture } from '@ratewire/testkit/replay/index';

export interface Ticker {
  symbol: string;
  price: string;
}

export interface FullMarket {
  prices: Ticker[];
  /** The replay server's Binance fixtures (`startConsoleStack({ replay: { binance: market.fixtures } })`). */
  fixtures: { tickerPrice: string; exchangeInfo: string };
  remove(): void;
}

export function fullMarket(size = 2519): FullMarket {
  const recorded = JSON.parse(readFixture(DEFAULT_BINANCE_FIXTURES.tickerPrice).toString('utf8')) as Ticker[];
  const prices = recorded.filter((t) => /^[A-Z0-9]{2,30}$/.test(t.symbol) && /[1-9]/.test(t.price)).slice(0, size);
  for (let i = 0; prices.length < size; i++) {
    prices.push({
      symbol: `ZZ${String(i).padStart(4, '0')}USDT`,
      price: `${(i % 97) + 1}.${String(i).padStart(8, '0')}`,
    });
  }
  const quotes = ['USDT', 'BUSD', 'USDC', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'];
  const symbols = prices.map(({ symbol }) => {
    const quote = quotes.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? symbol.slice(-3);
    return { symbol, status: 'TRADING', baseAsset: symbol.slice(0, -quote.length) || symbol, quoteAsset: quote };
  });
  const info = { timezone: 'UTC', serverTime: Date.now(), rateLimits: [], symbols };
  const dir = mkdtempSync(join(tmpdir(), 'ratewire-market-'));
  const fixtures = { tickerPrice: join(dir, 'ticker_price.json'), exchangeInfo: join(dir, 'exchangeInfo.json') };
  writeFileSync(fixtures.tickerPrice, JSON.stringify(prices));
  writeFileSync(fixtures.exchangeInfo, JSON.stringify(info));
  return { prices, fixtures, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
