// The markets page's model without a browser: exact change arithmetic, events and snapshots merged
// in either order, the search forms and the sort orders.
import { describe, expect, it } from 'vitest';

import { Market, matcherOf, orderRows, searchProblem } from './binance-market.ts';
import { percentChange, subtractDecimals } from '../../core/decimal.ts';

const snapshot = (updated_at: string, prices: Record<string, string>) => ({
  updated_at,
  count: Object.keys(prices).length,
  prices,
});

describe('exact change arithmetic', () => {
  it('subtracts decimal strings exactly, keeping the longer fraction', () => {
    expect(subtractDecimals('0.3', '0.1')).toBe('0.2');
    expect(subtractDecimals('55711.59000000', '61234.5678')).toBe('-5522.97780000');
    expect(subtractDecimals('100000000000000000000.00000001', '0.00000001')).toBe('100000000000000000000.00000000');
    expect(subtractDecimals('1', '1e3')).toBeNull();
  });

  it('gives the change in percent half-up to 2 places, none from a zero', () => {
    expect(percentChange('110', '100')).toBe('10.00');
    expect(percentChange('0.06282900', '0.06300000')).toBe('-0.27');
    expect(percentChange('1.00005', '1')).toBe('0.01');
    expect(percentChange('0.99995', '1')).toBe('-0.01');
    expect(percentChange('1.00004', '1')).toBe('0.00');
    expect(percentChange('5', '0.000')).toBeNull();
  });
});

describe('Market', () => {
  it('applies an event to the symbols it names only, with direction and change', () => {
    const m = new Market();
    m.applySnapshot(snapshot('2026-12-01T10:00:00.000Z', { BTCUSDT: '100.00', ETHBTC: '0.05' }));
    const r = m.applyEvent({
      ts: '2026-12-01T10:00:05.000Z',
      changed: [{ symbol: 'BTCUSDT', price: '99.50', previous: '100.00' }],
    });
    expect(r).toEqual({ changed: ['BTCUSDT'], membership: false });
    const btc = m.rows.get('BTCUSDT')!;
    expect(btc).toMatchObject({ price: '99.50', previous: '100.00', change: '-0.50', percent: '-0.50' });
    expect(btc.direction).toBe('down');
    expect(btc.updatedAt).toBe('2026-12-01T10:00:05.000Z');
    expect(m.rows.get('ETHBTC')!.seq).toBe(0);
    expect(m.lastEventTs).toBe('2026-12-01T10:00:05.000Z');
  });

  it('keeps a price an event brought when an older snapshot arrives after it', () => {
    const m = new Market();
    m.applySnapshot(snapshot('2026-12-01T10:00:00.000Z', { BTCUSDT: '100' }));
    m.applyEvent({ ts: '2026-12-01T10:00:09.000Z', changed: [{ symbol: 'BTCUSDT', price: '101', previous: '100' }] });
    const r = m.applySnapshot(snapshot('2026-12-01T10:00:05.000Z', { BTCUSDT: '100.5' }));
    expect(r.changed).toEqual([]);
    expect(m.rows.get('BTCUSDT')!.price).toBe('101');
  });

  it('catches up from a newer snapshot: missed changes, new and gone symbols', () => {
    const m = new Market();
    m.applySnapshot(snapshot('2026-12-01T10:00:00.000Z', { BTCUSDT: '100', OLDUSDT: '1' }));
    const r = m.applySnapshot(snapshot('2026-12-01T10:01:00.000Z', { BTCUSDT: '105', NEWUSDT: '2' }));
    expect(r).toEqual({ changed: ['BTCUSDT'], membership: true });
    expect(m.rows.get('BTCUSDT')).toMatchObject({ price: '105', previous: '100', caughtUp: true, direction: 'up' });
    expect([...m.rows.keys()].sort()).toEqual(['BTCUSDT', 'NEWUSDT']);
  });

  it('treats equal decimals written differently as unchanged', () => {
    const m = new Market();
    m.applySnapshot(snapshot('2026-12-01T10:00:00.000Z', { BTCUSDT: '100.10' }));
    expect(m.applySnapshot(snapshot('2026-12-01T10:01:00.000Z', { BTCUSDT: '100.1000' })).changed).toEqual([]);
  });
});

describe('search', () => {
  it('matches a part of the symbol in any case, or base/quote', () => {
    expect(matcherOf('btc')('ETHBTC')).toBe(true);
    expect(matcherOf('BTC/')('ETHBTC')).toBe(false);
    expect(matcherOf('BTC/')('BTCUSDT')).toBe(true);
    expect(matcherOf('/usdt')('BTCUSDT')).toBe(true);
    expect(matcherOf('eth/btc')('ETHBTC')).toBe(true);
    expect(matcherOf('usdt/usdt')('USDT')).toBe(false);
    expect(matcherOf('  ')('ANY')).toBe(true);
  });

  it('says what is wrong with a search it cannot use', () => {
    expect(searchProblem('btc/usdt')).toBeNull();
    expect(searchProblem('BTC-USDT')).toMatch(/letters and digits/);
    expect(searchProblem('a/b/c')).toMatch(/at most one \//);
    expect(searchProblem('A'.repeat(31))).toMatch(/at most 30/);
  });
});

describe('sort', () => {
  const m = new Market();
  m.applySnapshot(
    snapshot('2026-12-01T10:00:00.000Z', { AUSDT: '9.5', BUSDT: '10.25', CUSDT: '10.250', DUSDT: '0.001' }),
  );
  m.applyEvent({ ts: '2026-12-01T10:00:01.000Z', changed: [{ symbol: 'DUSDT', price: '0.002', previous: '0.001' }] });
  m.applyEvent({ ts: '2026-12-01T10:00:02.000Z', changed: [{ symbol: 'AUSDT', price: '9', previous: '9.5' }] });
  const symbols = (key: 'symbol' | 'price' | 'change' | 'updated', direction: 'ascending' | 'descending', q = '') =>
    orderRows(m.rows.values(), q, { key, direction }).map((r) => r.symbol);

  it('orders prices exactly as decimals (ties by symbol)', () => {
    expect(symbols('price', 'descending')).toEqual(['BUSDT', 'CUSDT', 'AUSDT', 'DUSDT']);
    expect(symbols('price', 'ascending')).toEqual(['DUSDT', 'AUSDT', 'BUSDT', 'CUSDT']);
  });

  it('puts rows without a change or an update time last in either direction', () => {
    expect(symbols('change', 'descending')).toEqual(['DUSDT', 'AUSDT', 'BUSDT', 'CUSDT']);
    expect(symbols('change', 'ascending')).toEqual(['AUSDT', 'DUSDT', 'BUSDT', 'CUSDT']);
    expect(symbols('updated', 'descending')).toEqual(['AUSDT', 'DUSDT', 'BUSDT', 'CUSDT']);
  });

  it('sorts what the search keeps', () => {
    expect(symbols('symbol', 'descending', 'b')).toEqual(['BUSDT']);
  });
});
