import { z } from 'zod';

import { text } from './text.schemas.ts';

export {
  DECIMAL_INPUT_DIGITS,
  DECIMAL_INPUT_RE,
  DECIMAL_RE,
  decimalInput,
  decimalParts,
  decimalString,
  expandExponent,
  isRawJsonNumeral,
  type DecimalParts,
  type RawJsonNumber,
} from './decimal.schemas.ts';

/** The forms of the project's identifiers, written once: schemas, feed parsers and channel names use them. */
export const ID_FORMS = {
  currencyCode: '[A-Z]{3}',
  binanceSymbol: '[A-Z0-9]{2,30}',
  /** Lower-case, as Postgres writes a uuid. */
  uuid: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
} as const;

/** A whole-string pattern of one form (a pattern built of alternatives groups them itself). */
export const exactly = (form: string, flags?: string) => new RegExp(`^${form}$`, flags);

/** A calendar day, `YYYY-MM-DD`, checked to exist. */
export const isoDate = text()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD' })
  .refine(
    (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    {
      message: 'not a calendar date',
    },
  );

export const currencyCode = text()
  .trim()
  .toUpperCase()
  .regex(exactly(ID_FORMS.currencyCode), { message: 'expected a 3-letter currency code' });

export const binanceSymbol = text()
  .trim()
  .toUpperCase()
  .regex(exactly(ID_FORMS.binanceSymbol), { message: 'expected a Binance symbol such as BTCUSDT' });

/** `?symbols=USD,EUR` → ['USD', 'EUR'] (trimmed, upper-cased, de-duplicated). */
export const commaList = <T extends z.ZodType<string, string>>(item: T, max = 500) =>
  text()
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

/** The forms a tabular read (a series, a history, a list) answers in. */
export const TABLE_FORMATS = ['json', 'csv', 'ndjson'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** What ends each row of CSV (RFC 4180's CRLF) and NDJSON, and what stands between the rows of a JSON array. */
export const TABLE_ROW_SEPARATOR: Record<TableFormat, string> = { csv: '\r\n', ndjson: '\n', json: ',' };

/** `?format=`: overrides Accept (text/csv, application/x-ndjson) on every tabular read. */
export const formatQuery = z.object({
  format: z
    .enum(TABLE_FORMATS, { message: 'expected json, csv or ndjson' })
    .optional()
    .meta({ description: 'json, csv or ndjson; default by Accept (text/csv, application/x-ndjson), else json' }),
});
