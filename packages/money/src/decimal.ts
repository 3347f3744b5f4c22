// The one decimal helper for money and rates: exact arithmetic on decimal strings.
import { Decimal } from 'decimal.js';

const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -100, toExpPos: 100 });

/**
 * Products and sums are computed with every digit (their length is bounded by their operands');
 * only division rounds, to 60 significant digits. Results come back as D, so what follows rounds.
 */
const EXACT = D.clone({ precision: 1e9 });

export type DecimalValue = string | number | InstanceType<typeof D>;
export { D as Dec };

export const dec = (v: DecimalValue) => new D(v);

/** Round half-up to `places` and print with exactly that many places: round('3775', 2) = '3775.00'. */
export function roundFixed(v: DecimalValue, places: number): string {
  return new D(v).toDecimalPlaces(places, D.ROUND_HALF_UP).toFixed(places);
}

/** Plain decimal text without trailing zeros or exponent: '75.50000' → '75.5'. */
export function normalize(v: DecimalValue): string {
  return new D(v).toFixed();
}

/** The exact product. */
export function mul(...values: DecimalValue[]): InstanceType<typeof D> {
  return new D(values.reduce<InstanceType<typeof D>>((acc, v) => acc.mul(v), new EXACT(1)));
}

/** The exact sum. */
export function add(...values: DecimalValue[]): InstanceType<typeof D> {
  return new D(values.reduce<InstanceType<typeof D>>((acc, v) => acc.add(v), new EXACT(0)));
}

export function div(a: DecimalValue, b: DecimalValue): InstanceType<typeof D> {
  return new D(a).div(b);
}

/**
 * Rubles for one unit when `value` rubles are quoted for `nominal` units (CBR quotes some
 * currencies per 10, 100, …): the exact quotient rounded half-up to 20 places, without trailing
 * zeros. unitRate('55.1234', 100) = '0.551234'.
 */
export function unitRate(value: string, nominal: number): string {
  return normalize(roundFixed(div(value, nominal), 20));
}

export function isPositive(v: DecimalValue): boolean {
  return new D(v).isPositive() && !new D(v).isZero();
}

export function equal(a: DecimalValue, b: DecimalValue): boolean {
  return new D(a).eq(b);
}
