import { dec } from '@ratewire/money';
import { describe, expect, it } from 'vitest';

import { compareDecimals, percentChange, subtractDecimals } from './decimal.ts';

/** Decimal strings of every shape the API sends: signs, leading and trailing zeros, long fractions. */
function randomDecimal(i: number): string {
  const r = (n: number) => Math.floor((Math.abs(Math.sin(i * 12.9898 + n) * 43758.5453) % 1) * 10 ** 6);
  const whole = String(r(1) % 10 ** (r(2) % 7));
  const fraction =
    r(3) % 3 === 0
      ? ''
      : `.${String(r(4))
          .padStart(6, '0')
          .slice(0, 1 + (r(5) % 6))}`;
  return `${r(6) % 4 === 0 ? '-' : ''}${r(7) % 5 === 0 ? '0' : ''}${whole}${fraction}`;
}

describe('compareDecimals', () => {
  it('orders as exact decimals do, whatever the digits and zeros', () => {
    expect(compareDecimals('0.1', '0.10')).toBe(0);
    expect(compareDecimals('00012.5', '12.50')).toBe(0);
    expect(compareDecimals('9.99999999', '10')).toBe(-1);
    expect(compareDecimals('-0.5', '-0.25')).toBe(-1);
    expect(compareDecimals('65000.00000001', '65000')).toBe(1);
    // beyond a double's precision
    expect(compareDecimals('12345678901234567.000000000000000001', '12345678901234567')).toBe(1);
    for (let i = 0; i < 2000; i++) {
      const a = randomDecimal(i);
      const b = randomDecimal(i + 7919);
      expect(compareDecimals(a, b), `${a} vs ${b}`).toBe(dec(a).comparedTo(dec(b)));
    }
  });

  it('puts a string that is not a decimal first, and keeps such strings equal', () => {
    expect(compareDecimals('n/a', '1')).toBe(-1);
    expect(compareDecimals('1', 'n/a')).toBe(1);
    expect(compareDecimals('x', 'y')).toBe(0);
  });
});

describe('subtractDecimals and percentChange', () => {
  it('agree with decimal.js', () => {
    for (let i = 0; i < 500; i++) {
      const a = randomDecimal(i);
      const b = randomDecimal(i + 104729);
      expect(subtractDecimals(a, b) === null ? null : dec(subtractDecimals(a, b)!).toString()).toBe(
        dec(a).minus(b).toString(),
      );
      if (!dec(b).isZero()) {
        const expected = dec(a).minus(b).div(b).times(100).toDecimalPlaces(2, 4).toFixed(2);
        expect(percentChange(a, b), `${a} vs ${b}`).toBe(expected);
      }
    }
  });
});
