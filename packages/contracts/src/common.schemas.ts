import { z } from 'zod';

/** A decimal number written as a string: `75.5`, `-0.01`, `100`. No exponent, no float. */
export const DECIMAL_RE = /^-?\d{1,30}(\.\d{1,30})?$/;

export const decimalString = z
  .string()
  .regex(DECIMAL_RE, { message: 'expected a decimal number as a string, e.g. "75.5"' })
  .meta({ description: 'Exact decimal as a string', examples: ['75.5'] });

/**
 * Input that may be a JSON number or a decimal string; always becomes a decimal string.
 * A JSON number is taken as its shortest round-trip text (75.5 → "75.5").
 */
export const decimalInput = z
  .union([z.string().trim(), z.number()])
  .transform((v, ctx) => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        ctx.addIssue({ code: 'custom', message: 'must be a finite number' });
        return z.NEVER;
      }
      const text = String(v);
      if (!/e/i.test(text)) return text;
      // exponent form (1e-7, 1e21): expand exactly from the digits and the exponent
      const [mantissa = '0', exp = '0'] = text.toLowerCase().split('e');
      return expandExponent(mantissa, Number.parseInt(exp, 10));
    }
    if (!DECIMAL_RE.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'expected a decimal number, e.g. 75.5 or "75.5"' });
      return z.NEVER;
    }
    return v;
  })
  .meta({ description: 'A decimal number, as a JSON number or a string', examples: ['75.5', 75.5] });

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

/** A calendar day, `YYYY-MM-DD`, checked to exist. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD' })
  .refine(
    (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    {
      message: 'not a calendar date',
    },
  );

export const currencyCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{3}$/, { message: 'expected a 3-letter currency code' });

export const binanceSymbol = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{2,30}$/, { message: 'expected a Binance symbol such as BTCUSDT' });

/** `?symbols=USD,EUR` → ['USD', 'EUR'] (trimmed, upper-cased, de-duplicated). */
export const commaList = <T extends z.ZodType<string, string>>(item: T, max = 500) =>
  z
    .string()
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((s) => s.trim().toUpperCase())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(item).max(max, { message: `at most ${max} entries` }));

export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
