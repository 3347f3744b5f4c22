// currencies: the editable rows of the Currency-API service’s shape (latest rate per currency; the
// CBR poller keeps them current, see storeCbrDay), and the event a stored row is announced with.
import { sql } from 'kysely';

import type { CurrencyEvent } from '@ratewire/contracts';
import { normalize, unitRate } from '@ratewire/money';

import type { Database } from '../pool.ts';

export interface CurrencyRow {
  id: number;
  code: string;
  name: string | null;
  nominal: number;
  rate: string;
  created_at: Date;
  updated_at: Date;
}

const columns = ['id', 'code', 'name', 'nominal', 'rate', 'created_at', 'updated_at'] as const;

/** Postgres unique_violation (the code is taken). */
export const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

export async function listCurrencies(db: Database, limit: number, offset: number): Promise<CurrencyRow[]> {
  return db
    .selectFrom('currencies')
    .select(columns)
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .$castTo<CurrencyRow>()
    .execute();
}

export async function findCurrency(db: Database, id: number): Promise<CurrencyRow | undefined> {
  return db.selectFrom('currencies').select(columns).where('id', '=', id).$castTo<CurrencyRow>().executeTakeFirst();
}

export async function insertCurrency(
  db: Database,
  values: { code: string; name: string | null; nominal: number; rate: string },
): Promise<CurrencyRow> {
  return db.insertInto('currencies').values(values).returning(columns).$castTo<CurrencyRow>().executeTakeFirstOrThrow();
}

export async function updateCurrency(
  db: Database,
  id: number,
  changes: { code?: string; name?: string | null; nominal?: number; rate?: string },
): Promise<CurrencyRow | undefined> {
  return db
    .updateTable('currencies')
    .set({ ...changes, updated_at: sql`now()` })
    .where('id', '=', id)
    .returning(columns)
    .$castTo<CurrencyRow>()
    .executeTakeFirst();
}

export async function deleteCurrency(db: Database, id: number): Promise<{ id: number; code: string } | undefined> {
  return db.deleteFrom('currencies').where('id', '=', id).returning(['id', 'code']).executeTakeFirst();
}

/**
 * The currencies.created / currencies.updated payload of a stored row, as the api (an admin's
 * write) and the worker (a CBR day) both announce it.
 */
export function currencyEventOf(row: CurrencyRow, source: CurrencyEvent['source']): CurrencyEvent {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    nominal: row.nominal,
    rate: normalize(row.rate),
    unit_rate: unitRate(row.rate, row.nominal),
    updated_at: row.updated_at.toISOString(),
    source,
  };
}
