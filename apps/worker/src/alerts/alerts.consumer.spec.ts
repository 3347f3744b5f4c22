import { describe, expect, it } from 'vitest';

import { SUBJECTS } from '@ratewire/contracts';

import { tickOf } from './alerts.consumer.ts';

const now = Date.parse('2026-12-01T12:00:00Z');
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const binance = (ts: string) =>
  tickOf(
    SUBJECTS.ratesBinanceUpdated,
    bytes({ ts, changed: [{ symbol: 'BTCUSDT', price: '1', previous: null }] }),
    now,
  );
const cbr = (date: string) =>
  tickOf(
    SUBJECTS.ratesCbrUpdated,
    bytes({ date, changed: [{ code: 'USD', value: '90', nominal: 1, unit_rate: '90', previous: null }] }),
    now,
  );

describe('tickOf', () => {
  it('reads a Binance change as a tick at its snapshot time, and a CBR one at its effective date', () => {
    expect(binance('2026-12-01T11:59:50.000Z')).toEqual({
      source: 'binance',
      at: new Date('2026-12-01T11:59:50.000Z'),
      changes: [{ symbol: 'BTCUSDT', value: '1', previous: null }],
    });
    expect(cbr('2026-12-02')).toMatchObject({ source: 'cbr', at: new Date('2026-12-02T00:00:00Z') });
  });

  it('refuses a time no feed observed a rate at (far past, far ahead, not a time)', () => {
    for (const ts of ['+275760-09-13T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '2026-12-03T12:00:00.000Z', 'soon']) {
      expect(binance(ts), ts).toHaveProperty('error');
    }
    expect(cbr('9999-12-31')).toHaveProperty('error');
  });

  it('refuses what the contract refuses', () => {
    expect(tickOf(SUBJECTS.ratesBinanceUpdated, bytes({ ts: 'x', changed: 'all' }), now)).toHaveProperty('error');
    expect(tickOf(SUBJECTS.ratesCbrUpdated, new TextEncoder().encode('{"date":'), now)).toHaveProperty('error');
  });
});
