// Range reads of the CBR history, compiled for streamRows (a cursor: rows as arrays, in the select's
// order) so that a range of any length streams in constant memory; and the small lookups the range
// reads need first (the effective date of a day, a fingerprint of what a range holds).
import { sql, type CompiledQuery } from 'kysely';

import { TABLE_ROW_SEPARATOR, type TableFormat } from '@ratewire/contracts';

import type { Database } from '../pool.ts';
import { renderedRow, type RenderColumn } from '../render.ts';

/** The export's columns, in order. */
const HISTORY_COLUMNS: readonly RenderColumn[] = [
  { name: 'date', ref: 'date', kind: 'string' },
  { name: 'code', ref: 'code', kind: 'text' },
  { name: 'nominal', ref: 'nominal', kind: 'number' },
  { name: 'value', ref: 'value', kind: 'string' },
  { name: 'unit_rate', ref: 'unit_rate', kind: 'string' },
];
export const CBR_HISTORY_COLUMNS = HISTORY_COLUMNS.map((c) => c.name);

/**
 * `[text]`: every stored rate in [from, to], by date then code, rendered by Postgres in `format`
 * (CSV lines, or JSON objects with the CBR_HISTORY_COLUMNS), one text per effective date holding
 * that date's rows joined as the format joins rows — so the api handles a few thousand texts for
 * thirty years instead of a quarter of a million.
 */
export function cbrHistoryQuery(
  db: Database,
  range: { from: string; to: string; codes?: readonly string[] | undefined },
  format: TableFormat,
): CompiledQuery {
  let query = db
    .selectFrom('cbr_rates')
    .select(
      sql<string>`string_agg(${renderedRow(HISTORY_COLUMNS, format)}, ${TABLE_ROW_SEPARATOR[format]} order by code)`.as(
        'rows',
      ),
    )
    .where('date', '>=', range.from)
    .where('date', '<=', range.to);
  if (range.codes?.length) query = query.where('code', '=', sql<string>`any(${[...range.codes]}::text[])`);
  return query.groupBy('date').orderBy('date').compile();
}

/**
 * `[date, value, nominal, unit_rate, base_unit_rate]`: one currency's stored rates by effective date,
 * from the first effective date in force on `from` (so a range starting on a weekend opens with the
 * rate published before it) when `carryIn`, else from `from`; `base_unit_rate` is the unit rate of
 * `base` on the same effective date (null without a base, or where the base has no rate that date).
 */
export type CbrSeriesStreamRow = [
  date: string,
  value: string,
  nominal: number,
  unitRate: string,
  baseUnitRate: string | null,
];

export function cbrSeriesQuery(
  db: Database,
  q: { code: string; from: string; to: string; base?: string | undefined; carryIn?: boolean },
): CompiledQuery {
  const first = q.carryIn
    ? sql<string>`coalesce((select max(date) from cbr_rates where code = ${q.code} and date <= ${q.from}::date), ${q.from}::date)`
    : sql<string>`${q.from}::date`;
  const base = q.base && q.base !== 'RUB' ? q.base : null;
  return sql`
    select r.date, r.value, r.nominal, r.unit_rate, ${base ? sql`b.unit_rate` : sql`null::numeric`}
    from cbr_rates r
    ${base ? sql`left join cbr_rates b on b.date = r.date and b.code = ${base}` : sql``}
    where r.code = ${q.code} and r.date >= ${first} and r.date <= ${q.to}::date
    order by r.date
  `.compile(db);
}

/** `[date, code, unit_rate]` for the codes named (all without), from `from` to `to` effective dates, by date. */
export type CbrUnitRateRow = [date: string, code: string, unitRate: string];

export function cbrUnitRatesQuery(
  db: Database,
  range: { from: string; to: string; codes?: readonly string[] | undefined },
): CompiledQuery {
  let query = db
    .selectFrom('cbr_rates')
    .select(['date', 'code', 'unit_rate'])
    .where('date', '>=', range.from)
    .where('date', '<=', range.to);
  if (range.codes?.length) query = query.where('code', '=', sql<string>`any(${[...range.codes]}::text[])`);
  return query.orderBy('date').orderBy('code').compile();
}

/** The newest effective date stored on or before `day` (the publication in force that day), if any. */
export async function cbrEffectiveOn(db: Database, day: string): Promise<string | null> {
  const row = await db
    .selectFrom('cbr_rates')
    .select(sql<string | null>`max(date)`.as('max'))
    .where('date', '<=', day)
    .executeTakeFirst();
  return row?.max ?? null;
}

/**
 * What a range holds, in a few bytes: the number of stored rates and the newest write among its
 * dates (from cbr_rate_days, which triggers keep). Any insert, rewrite or delete of a rate in the
 * range changes it, so it makes the range's ETag; it covers every currency of those dates, so a read
 * of a few currencies may see its tag change for another's write — never the reverse.
 */
export async function cbrRangeFingerprint(db: Database, range: { from: string; to: string }): Promise<string> {
  const row = await db
    .selectFrom('cbr_rate_days')
    // the newest write to the microsecond, as Postgres prints it
    .select([sql<string>`coalesce(sum(rows), 0)`.as('n'), sql<string | null>`max(written_at)::text`.as('newest')])
    .where('date', '>=', range.from)
    .where('date', '<=', range.to)
    .executeTakeFirstOrThrow();
  return `${row.n}:${row.newest ?? '-'}`;
}

/** For alerts on a % change: each code's unit rate in force the day before `date` (absent: none stored). */
export async function cbrUnitRatesBefore(
  db: Database,
  codes: readonly string[],
  date: string,
): Promise<Map<string, string>> {
  if (!codes.length) return new Map();
  const result = await sql<{ code: string; unit_rate: string }>`
    select c.code, r.unit_rate
    from unnest(${codes}::text[]) as c(code)
    cross join lateral (
      select unit_rate from cbr_rates where code = c.code and date < ${date}::date order by date desc limit 1
    ) r`.execute(db);
  return new Map(result.rows.map((r) => [r.code, r.unit_rate]));
}
