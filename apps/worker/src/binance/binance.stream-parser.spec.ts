import { describe, expect, it } from 'vitest';

import { readFixture } from '@ratewire/testkit/replay/fixtures';

import { parseStreamFrame } from './binance.stream-parser.ts';

const frame = (data: unknown, stream = '!miniTicker@arr') => JSON.stringify({ stream, data });
const entry = (s: string, c: unknown, E: unknown = 1672515782136) => ({
  e: '24hrMiniTicker',
  E,
  s,
  c,
  o: '1',
  h: '1',
  l: '1',
  v: '1',
  q: '1',
});

describe('parseStreamFrame', () => {
  it("takes the frame of Binance's documentation: symbol, close as sent, event time", () => {
    expect(parseStreamFrame(readFixture('binance/stream/miniTicker_arr_docs.json'))).toEqual({
      kind: 'tickers',
      ticks: [{ symbol: 'BNBBTC', price: '0.0025', eventTime: 1672515782136 }],
      dropped: 0,
      skipped: 0,
    });
  });

  it('keeps prices exactly as sent (trailing zeros, tiny and long decimals)', () => {
    const f = parseStreamFrame(
      frame([
        entry('SHIBUSDT', '0.00001000'),
        entry('BTCUSDT', '61234.50000000'),
        entry('XUSDT', '0.123456789012345678901234567890'),
      ]),
    );
    expect(f.kind === 'tickers' && f.ticks.map((t) => t.price)).toEqual([
      '0.00001000',
      '61234.50000000',
      '0.123456789012345678901234567890',
    ]);
  });

  it('recognises serverShutdown bare, as the WebSocket API wraps it, and in a combined-stream wrapper', () => {
    expect(parseStreamFrame(readFixture('binance/stream/serverShutdown_docs.json'))).toEqual({
      kind: 'shutdown',
      eventTime: 1770123456789,
    });
    expect(parseStreamFrame('{"e":"serverShutdown","E":1770123456789}')).toEqual({
      kind: 'shutdown',
      eventTime: 1770123456789,
    });
    expect(parseStreamFrame(frame({ e: 'serverShutdown' }))).toEqual({ kind: 'shutdown', eventTime: undefined });
  });

  it('takes a reply to a request as nothing to do', () => {
    expect(parseStreamFrame('{"result":null,"id":1}')).toEqual({ kind: 'reply' });
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['truncated', frame([entry('BTCUSDT', '1')]).slice(0, 30), /not JSON/],
    ['an array', '[]', /got an array/],
    ['a number', '42', /got number/],
    ['another stream', frame([entry('BTCUSDT', '1')], 'btcusdt@miniTicker'), /not the !miniTicker@arr stream/],
    ['no stream', JSON.stringify({ data: [] }), /not the !miniTicker@arr stream/],
    ['data an object', frame({ s: 'BTCUSDT' }), /data is not an array/],
  ])('drops a frame that is %s', (_what, text, reason) => {
    const f = parseStreamFrame(text);
    expect(f.kind).toBe('invalid');
    expect(f.kind === 'invalid' && f.reason).toMatch(reason);
  });

  it('drops a frame over the size cap unparsed, and a frame of too many entries', () => {
    expect(parseStreamFrame(frame([entry('BTCUSDT', '1')]), 50)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/over the 50-byte cap/),
    });
    expect(parseStreamFrame(frame(Array.from({ length: 20_001 }, () => 0)))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/over 20000/),
    });
  });

  it('drops bad entries and keeps the good ones of the same frame; zero prices and foreign symbols are skipped', () => {
    const f = parseStreamFrame(
      frame([
        entry('AAAUSDT', '1e5'),
        entry('AAAUSDT', '-1'),
        entry('AAAUSDT', 1.5),
        entry('AAAUSDT', ' 1'),
        entry('AAAUSDT', '1', '1672515782136'),
        entry('AAAUSDT', '1', -5),
        { ...entry('AAAUSDT', '1'), e: '24hrTicker' },
        'AAAUSDT',
        entry('ethusdt', '1'),
        entry('ZEROUSDT', '0.00000000'),
        entry('BBBUSDT', '2.5'),
      ]),
    );
    expect(f).toEqual({
      kind: 'tickers',
      ticks: [{ symbol: 'BBBUSDT', price: '2.5', eventTime: 1672515782136 }],
      dropped: 8,
      skipped: 2,
      issue: expect.stringMatching(/^data\.0: "AAAUSDT" price "1e5" is not a decimal$/),
    });
  });

  it('a symbol twice in one frame keeps its newest event', () => {
    const f = parseStreamFrame(frame([entry('AAAUSDT', '2', 2000), entry('AAAUSDT', '1', 1000)]));
    expect(f).toMatchObject({
      kind: 'tickers',
      ticks: [{ symbol: 'AAAUSDT', price: '2', eventTime: 2000 }],
      dropped: 1,
    });
  });
});
