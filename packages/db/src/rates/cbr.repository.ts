// CBR history (cbr_rates, cbr_days) and the editable `currencies` rows, written from one parsed day.
import { sql, type Kysely } from 'kysely';

import { equal } from '@ratewire/core';

import type { DB } from '../schema.ts';

export interface CbrRateInput {
  code: string;
  numCode: string | null;
  cbrId: string | null;
  name: string;
  nominal: number;
  /** Rubles for `nominal` units (decimal string). */
  value: string;
  /** Rubles for one unit (decimal string). */
  unitRate: string;
}

export interface CbrRateValues {
  value: string;
  nominal: number;
  unit_rate: string;
}

export interface CbrRateChange extends CbrRateValues {
  code: string;
  previous: CbrRateValues | null;
}

export interface CurrencyRow {
  id: number;
  code: string;
  name: string | null;
  nominal: number;
  rate: string;
  created_at: Date;
  updated_at: Date;
}

export interface StoreCbrDayResult {
  /** Codes whose rate differs from the latest stored one at an earlier-or-equal date. */
  changed: CbrRateChange[];
  /** Whether `date` is the newest stored date (only then `currencies` follows it). */
  newest: boolean;
  currenciesCreated: CurrencyRow[];
  currenciesUpdated: CurrencyRow[];
}

// Serialises CBR writers (the poller and past-date fetches on other replicas) so that
// "what changed" is computed against a stable history.
const CBR_WRITE_LOCK = 727_101;

/**
 * Stores one CBR day under its effective `date` and records `requested → date` in cbr_days.
 * Run it inside a transaction (`db.transaction().execute(trx => storeCbrDay(trx, …))`);
 * publish the returned changes only after that transaction committed.
 */
export async function storeCbrDay(
  trx: Kysely<DB>,
  input: { date: string; rates: CbrRateInput[]; requested?: string },
): Promise<StoreCbrDayResult> {
  const { date, rates } = input;
  await sql`select pg_advisory_xact_lock(${CBR_WRITE_LOCK})`.execute(trx);
  const codes = rates.map((r) => r.code);

  const previousRows = await trx
    .selectFrom('cbr_rates')
    .select(['code', 'value', 'nominal', 'unit_rate'])
    .distinctOn('code')
    .where('code', '=', sql<string>`any(${codes}::text[])`)
    .where('date', '<=', date)
    .orderBy('code')
    .orderBy('date', 'desc')
    .execute();
  const previous = new Map(previousRows.map((r) => [r.code, r]));

  const changed: CbrRateChange[] = [];
  for (const r of rates) {
    const p = previous.get(r.code);
    const same = p && p.nominal === r.nominal && equal(p.value, r.value) && equal(p.unit_rate, r.unitRate);
    if (!same) {
      changed.push({
        code: r.code,
        value: r.value,
        nominal: r.nominal,
        unit_rate: r.unitRate,
        previous: p ? { value: p.value, nominal: p.nominal, unit_rate: p.unit_rate } : null,
      });
    }
  }

  if (rates.length) {
    await sql`
      insert into cbr_rates (date, code, num_code, cbr_id, name, nominal, value, unit_rate)
      select ${date}::date, t.* from unnest(
        ${codes}::text[], ${rates.map((r) => r.numCode)}::text[], ${rates.map((r) => r.cbrId)}::text[],
        ${rates.map((r) => r.name)}::text[], ${rates.map((r) => r.nominal)}::int[],
        ${rates.map((r) => r.value)}::numeric[], ${rates.map((r) => r.unitRate)}::numeric[]
      ) as t(code, num_code, cbr_id, name, nominal, value, unit_rate)
      on conflict (date, code) do update set
        num_code = excluded.num_code, cbr_id = excluded.cbr_id, name = excluded.name,
        nominal = excluded.nominal, value = excluded.value, unit_rate = excluded.unit_rate, fetched_at = now()
      where (cbr_rates.num_code, cbr_rates.cbr_id, cbr_rates.name, cbr_rates.nominal, cbr_rates.value, cbr_rates.unit_rate)
        is distinct from (excluded.num_code, excluded.cbr_id, excluded.name, excluded.nominal, excluded.value, excluded.unit_rate)
    `.execute(trx);
  }

  await trx
    .insertInto('cbr_days')
    .values({ requested: input.requested ?? date, effective: date })
    .onConflict((oc) => oc.column('requested').doUpdateSet({ effective: date, fetched_at: sql`now()` }))
    .execute();

  const newestRow = await trx
    .selectFrom('cbr_rates')
    .select(sql<string>`max(date)`.as('max'))
    .executeTakeFirst();
  const newest = rates.length > 0 && newestRow?.max === date;
  const result: StoreCbrDayResult = { changed, newest, currenciesCreated: [], currenciesUpdated: [] };
  if (!newest) return result;

  // A currency row changes (and its updated_at moves) only when its rate or nominal changed.
  const rows = await sql<CurrencyRow & { inserted: boolean }>`
    insert into currencies (code, name, nominal, rate)
    select * from unnest(
      ${codes}::text[], ${rates.map((r) => r.name)}::text[], ${rates.map((r) => r.nominal)}::int[],
      ${rates.map((r) => r.value)}::numeric[]
    )
    on conflict (code) do update set
      name = excluded.name, nominal = excluded.nominal, rate = excluded.rate, updated_at = now()
    where currencies.rate <> excluded.rate or currencies.nominal <> excluded.nominal
    returning id, code, name, nominal, rate, created_at, updated_at, (xmax = 0) as inserted
  `.execute(trx);
  for (const { inserted, ...row } of rows.rows) {
    (inserted ? result.currenciesCreated : result.currenciesUpdated).push(row);
  }
  return result;
}

/** Requested days already resolved in [from, to] (for a resumable backfill). */
export async function listCbrDays(db: Kysely<DB>, from: string, to: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('cbr_days')
    .select(['requested', 'effective'])
    .where('requested', '>=', from)
    .where('requested', '<=', to)
    .execute();
  return new Map(rows.map((r) => [r.requested, r.effective]));
}

/** The newest effective date stored, if any. */
export async function latestCbrDate(db: Kysely<DB>): Promise<string | null> {
  const row = await db
    .selectFrom('cbr_rates')
    .select(sql<string | null>`max(date)`.as('max'))
    .executeTakeFirst();
  return row?.max ?? null;
}
