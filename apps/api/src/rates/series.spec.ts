import { describe, expect, it } from 'vitest';

import { FluctuationFold, ForwardFill, PeriodFold, crossRate, periodOf, scaleOf } from './series.ts';

describe('periodOf', () => {
  it('gives ISO weeks, Monday to Sunday, without splitting a week at New Year', () => {
    expect(periodOf('2024-12-31', 'week')).toEqual({ start: '2024-12-30', end: '2025-01-05' });
    expect(periodOf('2025-01-01', 'week')).toEqual({ start: '2024-12-30', end: '2025-01-05' });
    // 1 January 2021 was a Friday: its ISO week (2020-W53) began in December
    expect(periodOf('2021-01-01', 'week')).toEqual({ start: '2020-12-28', end: '2021-01-03' });
    expect(periodOf('2026-03-01', 'week')).toEqual({ start: '2026-02-23', end: '2026-03-01' }); // a Sunday
    expect(periodOf('2026-03-02', 'week')).toEqual({ start: '2026-03-02', end: '2026-03-08' }); // a Monday
  });

  it('gives calendar months, leap years included', () => {
    expect(periodOf('2024-02-10', 'month')).toEqual({ start: '2024-02-01', end: '2024-02-29' });
    expect(periodOf('2025-02-10', 'month')).toEqual({ start: '2025-02-01', end: '2025-02-28' });
    expect(periodOf('2025-12-31', 'month')).toEqual({ start: '2025-12-01', end: '2025-12-31' });
  });
});

describe('PeriodFold', () => {
  it('rounds avg half-up to the longest input scale + 4, exactly', () => {
    const fold = new PeriodFold('month');
    expect(fold.push('2025-01-09', '0.1')).toBeUndefined();
    expect(fold.push('2025-01-10', '0.2')).toBeUndefined();
    expect(fold.push('2025-01-11', '0.25')).toBeUndefined();
    // (0.1 + 0.2 + 0.25) / 3 = 0.18333… → 6 places; a float sum would be 0.55000000000000004
    const jan = fold.push('2025-02-01', '1');
    expect(jan).toEqual({
      period_start: '2025-01-01',
      period_end: '2025-01-31',
      open: '0.1',
      high: '0.25',
      low: '0.1',
      close: '0.25',
      avg: '0.183333',
      count: 3,
    });
    expect(fold.finish()).toMatchObject({ period_start: '2025-02-01', avg: '1.0000', count: 1 });
    expect(fold.finish()).toBeUndefined();
  });

  it('takes the places from the longest input of the period', () => {
    const fold = new PeriodFold('week');
    fold.push('2025-01-06', '1');
    fold.push('2025-01-07', '1.00001');
    // mean 1.000005: 5 places + 4
    expect(fold.finish()?.avg).toBe('1.000005000');
  });
});

describe('ForwardFill', () => {
  it('carries the publication before the range into its first days, and the last one to the end', () => {
    const fill = new ForwardFill<string>('2025-12-28', '2025-12-31');
    expect(fill.push('2025-12-27', 'sat')).toEqual([]);
    expect(fill.push('2025-12-30', 'tue')).toEqual([
      { day: '2025-12-28', value: 'sat', carried: true, effective: '2025-12-27' },
      { day: '2025-12-29', value: 'sat', carried: true, effective: '2025-12-27' },
      { day: '2025-12-30', value: 'tue', carried: false, effective: '2025-12-30' },
    ]);
    expect(fill.finish()).toEqual([{ day: '2025-12-31', value: 'tue', carried: true, effective: '2025-12-30' }]);
  });
});

describe('ForwardFill near today', () => {
  it('shows a publication set in advance, and fills no day after the last publication beyond today', () => {
    const fill = new ForwardFill<string>('2026-11-29', '2026-12-05', '2026-12-01');
    expect(fill.push('2026-11-28', 'sat').map((d) => d.day)).toEqual([]);
    // tomorrow's rates, published today: the days up to it are certain
    expect(fill.push('2026-12-02', 'wed')).toEqual([
      { day: '2026-11-29', value: 'sat', carried: true, effective: '2026-11-28' },
      { day: '2026-11-30', value: 'sat', carried: true, effective: '2026-11-28' },
      { day: '2026-12-01', value: 'sat', carried: true, effective: '2026-11-28' },
      { day: '2026-12-02', value: 'wed', carried: false, effective: '2026-12-02' },
    ]);
    expect(fill.finish()).toEqual([]);
    const today = new ForwardFill<string>('2026-11-29', '2026-12-05', '2026-12-01');
    today.push('2026-11-28', 'sat');
    expect(today.finish().map((d) => d.day)).toEqual(['2026-11-29', '2026-11-30', '2026-12-01']);
  });
});

describe('FluctuationFold', () => {
  it('gives exact change, half-up change_pct, min and max; a rounded-away fall is 0.0000', () => {
    const fold = new FluctuationFold();
    for (const v of ['80', '79.5', '81.25', '80.4']) fold.push('USD', v);
    expect(fold.result('USD')).toEqual({
      start_rate: '80',
      end_rate: '80.4',
      change: '0.4',
      change_pct: '0.5000',
      min: '79.5',
      max: '81.25',
    });
    fold.push('EUR', '100000');
    fold.push('EUR', '99999.99999');
    expect(fold.result('EUR')).toMatchObject({ change: '-0.00001', change_pct: '0.0000' });
    expect(fold.result('JPY')).toBeUndefined();
    expect(fold.codes()).toEqual(['EUR', 'USD']);
  });
});

describe('crossRate and scaleOf', () => {
  it('divides half-up to 8 places', () => {
    expect(crossRate('1', '3')).toBe('0.33333333');
    expect(crossRate('2', '3')).toBe('0.66666667');
    expect(crossRate('78.3', '78.3')).toBe('1.00000000');
    // 1 / 512 = 0.001953125: a tie at the ninth place goes up (half-even would give …312)
    expect(crossRate('1', '512')).toBe('0.00195313');
    expect(scaleOf('92.5058')).toBe(4);
    expect(scaleOf('100')).toBe(0);
  });
});
