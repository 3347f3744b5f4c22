// Decimals: the one input schema every app validates money and rates with (REST bodies and queries,
// the compatible routes, stored exchange jobs, inbound `currencies.updates`), and the pattern of
// the decimal strings it answers with. Rates and money never go through a float: a decimal given as
// a JSON number is taken from its exact text (see `isRawJsonNumeral`), and only when that text fits.
import { z } from 'zod';

/** A decimal number written as a string: `75.5`, `-0.01`, `100`. No exponent, no float. */
export const DECIMAL_RE = /^-?\d{1,30}(\.\d{1,30})?$/;

export const decimalString = z
  .string()
  .regex(DECIMAL_RE, { message: 'expected a decimal number as a string, e.g. "75.5"' })
  .meta({ description: 'Exact decimal as a string', examples: ['75.5'] });

/**
 * Digits a decimal input may carry before and after the point. Postgres keeps every accepted value
 * exactly (the columns are unconstrained `numeric`), and unit rates are kept to 20 places.
 */
export const DECIMAL_INPUT_DIGITS = { integer: 30, fraction: 20 } as const;

/** A decimal input written as a string: at most 30 digits before the point and 20 after, no exponent. */
export const DECIMAL_INPUT_RE = /^-?\d{1,30}(\.\d{1,20})?$/;

const LIMITS_MESSAGE =
  `expected a decimal number with at most ${DECIMAL_INPUT_DIGITS.integer} digits before the point and ` +
  `${DECIMAL_INPUT_DIGITS.fraction} after, e.g. 75.5 or "75.5"`;

/** A JSON number kept as its source text (JSON.rawJSON): what an exact JSON parse gives for a number a double cannot hold. */
export interface RawJsonNumber {
  readonly rawJSON: string;
}

const rawJson = JSON as unknown as { isRawJSON(value: unknown): boolean };

export function isRawJsonNumeral(value: unknown): value is RawJsonNumber {
  return typeof value === 'object' && value !== null && rawJson.isRawJSON(value);
}

/** The exact value of number text: its significant digits and where the point goes (1.50e2 → '15', 3). */
export interface DecimalParts {
  negative: boolean;
  /** No leading or trailing zeros; '' for zero. */
  digits: string;
  /** Digits before the point (negative: zeros after it first); ±Infinity for an absurd exponent. */
  point: number;
}

const NUMBER_TEXT_RE = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Reads JSON number text (`-12.50`, `1e308`, `1.5E-7`, `5e+2`) or a plain decimal exactly, from the
 * text alone, in time linear in its length whatever the exponent. undefined when it is not a number.
 */
export function decimalParts(text: string): DecimalParts | undefined {
  const m = NUMBER_TEXT_RE.exec(text);
  if (!m) return undefined;
  const int = m[2] ?? '';
  const all = int + (m[3] ?? '');
  let first = 0;
  while (first < all.length && all[first] === '0') first++;
  if (first === all.length) return { negative: false, digits: '', point: 0 };
  let end = all.length;
  while (all[end - 1] === '0') end--;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  return { negative: m[1] === '-', digits: all.slice(first, end), point: int.length - first + exponent };
}

/** Plain decimal text for `parts` ('150', '0.0015'), or undefined when it has more digits than an input may. */
function withinLimits({ negative, digits, point }: DecimalParts): string | undefined {
  if (!digits) return '0';
  if (Math.max(point, 0) > DECIMAL_INPUT_DIGITS.integer) return undefined;
  if (Math.max(digits.length - point, 0) > DECIMAL_INPUT_DIGITS.fraction) return undefined;
  const text =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${text}` : text;
}

/**
 * A decimal input: a decimal string (`"75.5"`, kept as written) or a JSON number whose exact text
 * fits the same limits (`75.5` → `"75.5"`, `1e3` → `"1000"`); always a decimal string after parsing.
 * `1e308`, `1e-30` and strings of more digits are refused, whichever way they are written.
 */
export const decimalInput = z
  .preprocess(
    (value, ctx) => {
      if (!isRawJsonNumeral(value)) return value;
      const parts = decimalParts(value.rawJSON);
      const text = parts && withinLimits(parts);
      if (text === undefined) {
        ctx.addIssue({ code: 'custom', message: LIMITS_MESSAGE });
        return z.NEVER;
      }
      return text;
    },
    z.union([z.string().trim().meta({ pattern: DECIMAL_INPUT_RE.source }), z.number()]).transform((value, ctx) => {
      if (typeof value === 'string') {
        if (DECIMAL_INPUT_RE.test(value)) return value;
      } else {
        // a number given in code, or one an exact JSON parse left as a number (its double is its value)
        const parts = Number.isFinite(value) ? decimalParts(String(value)) : undefined;
        const text = parts && withinLimits(parts);
        if (text !== undefined) return text;
      }
      ctx.addIssue({ code: 'custom', message: LIMITS_MESSAGE });
      return z.NEVER;
    }),
  )
  .meta({ description: 'A decimal number, as a JSON number or a string', examples: ['75.5', 75.5] });

/** A decimal input that must be greater than zero. */
export const positiveDecimalInput = decimalInput.refine((v) => !v.startsWith('-') && /[1-9]/.test(v), {
  message: 'must be greater than 0',
});

export function expandExponent(mantissa: string, exp: number): string {
  const negative = mantissa.startsWith('-');
  const [int = '0', frac = ''] = mantissa.replace('-', '').split('.');
  let digits = int + frac;
  let point = int.length + exp;
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  } else if (point > digits.length) {
    digits = digits + '0'.repeat(point - digits.length);
  }
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const rest = digits.slice(point).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${rest ? `.${rest}` : ''}`;
}
