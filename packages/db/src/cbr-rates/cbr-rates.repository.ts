// CBR history: cbr_rates (one row per effective date and currency) and cbr_days (which effective
// date answers a requested day), written from one parsed day (which also brings the editable
// `currencies` rows up to the newest day), and read by the api.
import { sql } from 'kysely';

import { equal } from '@ratewire/money';

import type { CurrencyRow } from '../currencies/currencies.repository.ts';
import type { Database } from '../pool.ts';

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
  trx: Database,
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
export async function listCbrDays(db: Database, from: string, to: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('cbr_days')
    .select(['requested', 'effective'])
    .where('requested', '>=', from)
    .where('requested', '<=', to)
    .execute();
  return new Map(rows.map((r) => [r.requested, r.effective]));
}

/** The newest effective date stored, if any. */
export async function latestCbrDate(db: Database): Promise<string | null> {
  const row = await db
    .selectFrom('cbr_rates')
    .select(sql<string | null>`max(date)`.as('max'))
    .executeTakeFirst();
  return row?.max ?? null;
}

export interface CbrRateRow {
  code: string;
  name: string;
  nominal: number;
  value: string;
  unit_rate: string;
}

/** Every currency's rate stored for the effective date `date`, by code. */
export async function cbrRatesOn(db: Database, date: string): Promise<CbrRateRow[]> {
  return db
    .selectFrom('cbr_rates')
    .select(['code', 'name', 'nominal', 'value', 'unit_rate'])
    .where('date', '=', date)
    .orderBy('code')
    .execute();
}

/** The effective date that answers `requested`, when it was resolved before (or published that day). */
export async function resolvedCbrDay(db: Database, requested: string): Promise<string | undefined> {
  const day = await db.selectFrom('cbr_days').select('effective').where('requested', '=', requested).executeTakeFirst();
  if (day) return day.effective;
  const published = await db
    .selectFrom('cbr_rates')
    .select('date')
    .where('date', '=', requested)
    .limit(1)
    .executeTakeFirst();
  return published?.date;
}

/** The codes among `codes` of which no CBR rate is stored, in the order given. */
export async function cbrUnknownCodes(db: Database, codes: readonly string[]): Promise<string[]> {
  if (!codes.length) return [];
  const result = await sql<{ code: string }>`
    select c as code from unnest(${[...codes]}::text[]) with ordinality as t(c, n)
    where not exists (select 1 from cbr_rates r where r.code = t.c)
    order by n
  `.execute(db);
  return result.rows.map((r) => r.code);
}

/** Rubles for one unit of a currency, and the effective date of the CBR rate it comes from. */
export interface CbrUnitRate {
  unit_rate: string;
  /** Absent for RUB, which is 1 without any CBR rate. */
  date?: string;
}

/**
 * Rubles for one unit of `code` (RUB = 1): the stored CBR rate of the newest effective date not
 * after `date`, or the newest of all without a date. Undefined when no such rate is stored. With a
 * date, the days before it must be stored (resolvedCbrDay tells), or an older rate answers.
 */
export async function rateOn(db: Database, code: string, date?: string): Promise<CbrUnitRate | undefined> {
  if (code === 'RUB') return { unit_rate: '1' };
  let query = db.selectFrom('cbr_rates').select(['date', 'unit_rate']).where('code', '=', code);
  if (date !== undefined) query = query.where('date', '<=', date);
  return query.orderBy('date', 'desc').limit(1).executeTakeFirst();
}
