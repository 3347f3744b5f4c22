import { describe, expect, it } from 'vitest';

import type { AlertIndexRow } from '@ratewire/db';

import { AlertIndex, decimalKey } from './alert-index.ts';

let n = 0;
const row = (over: Partial<AlertIndexRow>): AlertIndexRow => ({
  id: `a${++n}`,
  source: 'binance',
  symbol: 'BTCUSDT',
  condition_type: 'above',
  level: '100',
  window_seconds: null,
  threshold_pct: null,
  direction: null,
  frequency: 'once',
  rearm_pct: '0',
  status: 'active',
  changed_at: new Date(0),
  ...over,
});

/** A deterministic stream of prices with up to 8 places around 100. */
function* prices(seed: number): Generator<string> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const cents = 9_000_000_000 + (x % 2_000_000_000); // 90.00000000 … 109.99999999
    yield `${String(cents).slice(0, -8)}.${String(cents).slice(-8)}`;
  }
}

const cmp = (a: string, b: string) => (decimalKey(a) < decimalKey(b) ? -1 : decimalKey(a) > decimalKey(b) ? 1 : 0);

describe('decimalKey', () => {
  it('orders decimals exactly, past what a double tells apart', () => {
    expect(decimalKey('0.30000000000000000001') > decimalKey('0.3')).toBe(true);
    expect(decimalKey('100')).toBe(decimalKey('100.000'));
    expect(decimalKey('99.999999999999999999999999999999') < decimalKey('100')).toBe(true);
  });
});

describe('AlertIndex.candidates', () => {
  it('finds every level alert an observation moved past, and nothing that stayed on one side', () => {
    const index = new AlertIndex();
    const gen = prices(7);
    const draw = (): string => gen.next().value as string;
    const alerts = Array.from({ length: 400 }, (_, i) =>
      row({
        condition_type: (['above', 'below', 'crosses_above', 'crosses_below'] as const)[i % 4],
        level: draw(),
      }),
    );
    alerts.forEach((a) => index.load(a));
    index.seal();
    let previous = draw();
    for (let step = 0; step < 300; step++) {
      const value = draw();
      const got = new Set(index.candidates('binance', { symbol: 'BTCUSDT', value, previous }));
      for (const a of alerts) {
        const lv = a.level!;
        const edge =
          (a.condition_type === 'above' && cmp(value, lv) > 0 && cmp(previous, lv) <= 0) ||
          (a.condition_type === 'below' && cmp(value, lv) < 0 && cmp(previous, lv) >= 0) ||
          (a.condition_type === 'crosses_above' && cmp(previous, lv) < 0 && cmp(lv, value) <= 0) ||
          (a.condition_type === 'crosses_below' && cmp(previous, lv) > 0 && cmp(lv, value) >= 0);
        expect(got.has(a.id), `${a.condition_type} ${lv}: ${previous} → ${value}`).toBe(edge);
      }
      previous = value;
    }
  });

  it('a crossing exactly onto the level is found; leaving the level is not a crossing', () => {
    const index = new AlertIndex();
    const up = row({ condition_type: 'crosses_above', level: '100' });
    index.apply(up);
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '100', previous: '99.99' })).toEqual([up.id]);
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '101', previous: '100' })).toEqual([]);
  });

  it('an every_time alert is found again when the rate moves back to its re-arm point', () => {
    const index = new AlertIndex();
    const a = row({ condition_type: 'crosses_above', level: '100', frequency: 'every_time', rearm_pct: '1' });
    index.apply(a);
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '99.01', previous: '100.5' })).toEqual([]);
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '99', previous: '100.5' })).toEqual([a.id]);
  });

  it('pct_change: the alerts whose threshold the move reaches, per window and direction', () => {
    const index = new AlertIndex();
    const up5 = row({
      condition_type: 'pct_change',
      level: null,
      window_seconds: 3600,
      threshold_pct: '5',
      direction: 'up',
    });
    const up6 = row({
      condition_type: 'pct_change',
      level: null,
      window_seconds: 3600,
      threshold_pct: '6',
      direction: 'up',
    });
    const down5 = row({
      condition_type: 'pct_change',
      level: null,
      window_seconds: 3600,
      threshold_pct: '5',
      direction: 'down',
    });
    const day5 = row({
      condition_type: 'pct_change',
      level: null,
      window_seconds: 86400,
      threshold_pct: '5',
      direction: 'both',
    });
    [up5, up6, down5, day5].forEach((a) => index.apply(a));
    expect(index.pctWindows('binance', 'BTCUSDT').sort()).toEqual([3600, 86400]);
    const refs = new Map([[3600, '100']]);
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '105', previous: '104', references: refs })).toEqual(
      [up5.id],
    );
    expect(
      index.candidates('binance', { symbol: 'BTCUSDT', value: '104.99', previous: '104', references: refs }),
    ).toEqual([]);
  });

  it('a removed or no longer active alert is not found; a changed level is found at its new level', () => {
    const index = new AlertIndex();
    const a = row({ condition_type: 'crosses_above', level: '100' });
    index.apply(a);
    index.apply({ ...a, level: '200' });
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '101', previous: '99' })).toEqual([]);
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '201', previous: '199' })).toEqual([a.id]);
    index.apply({ ...a, status: 'triggered' });
    expect(index.size).toBe(0);
    expect(index.candidates('binance', { symbol: 'BTCUSDT', value: '201', previous: '199' })).toEqual([]);
  });
});
