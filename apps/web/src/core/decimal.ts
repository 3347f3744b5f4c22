// The console's exact arithmetic on the decimal strings the API sends: order, difference and change
// in percent, through BigInt (no binary floats). The service does its arithmetic with
// @ratewire/money (decimal.js); the console needs only these three operations and keeps them here,
// so that decimal.js (about 12 KB gzip) stays out of every page's first load.

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

interface Parts {
  negative: boolean;
  whole: string;
  fraction: string;
}

function partsOf(value: string): Parts | null {
  const m = DECIMAL.exec(value);
  return m ? { negative: m[1] === '-', whole: m[2]!, fraction: m[3] ?? '' } : null;
}

/** `value` × 10^scale as an integer (scale ≥ the number of fraction digits). */
function scaled(p: Parts, scale: number): bigint {
  const digits = BigInt(p.whole + p.fraction.padEnd(scale, '0'));
  return p.negative ? -digits : digits;
}

/** An integer × 10^-scale as a decimal string, with every fraction digit kept. */
function unscaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = scale ? digits.slice(0, -scale) : digits;
  const fraction = scale ? `.${digits.slice(-scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** `a − b`, exact, with as many fraction digits as the longer of the two (null if either is not a decimal). */
export function subtractDecimals(a: string, b: string): string | null {
  const pa = partsOf(a);
  const pb = partsOf(b);
  if (!pa || !pb) return null;
  const scale = Math.max(pa.fraction.length, pb.fraction.length);
  return unscaled(scaled(pa, scale) - scaled(pb, scale), scale);
}

/** `(price − previous) ÷ previous × 100`, half-up (away from zero) to `places` digits; null for a zero or bad previous. */
export function percentChange(price: string, previous: string, places = 2): string | null {
  const pa = partsOf(price);
  const pb = partsOf(previous);
  if (!pa || !pb) return null;
  const scale = Math.max(pa.fraction.length, pb.fraction.length);
  const before = scaled(pb, scale);
  if (before === 0n) return null;
  const numerator = (scaled(pa, scale) - before) * 100n * 10n ** BigInt(places);
  const negative = numerator < 0n !== before < 0n && numerator !== 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = before < 0n ? -before : before;
  const rounded = (2n * n + d) / (2n * d);
  return unscaled(negative ? -rounded : rounded, places);
}

/** Exact order of two decimal strings (-1, 0, 1); a string that is not a decimal sorts first. */
export function compareDecimals(a: string, b: string): number {
  const pa = partsOf(a);
  const pb = partsOf(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  const scale = Math.max(pa.fraction.length, pb.fraction.length);
  const x = scaled(pa, scale);
  const y = scaled(pb, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}
