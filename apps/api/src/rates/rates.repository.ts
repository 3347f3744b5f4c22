// Reads of the rate tables the worker fills: cbr_rates / cbr_days (CBR history) and binance_prices.
import { sql } from 'kysely';

import type { Database } from '@ratewire/db';

export interface CbrRateRow {
  code: string;
  name: string;
  nominal: number;
  value: string;
  unit_rate: string;
}

export interface CbrSeriesRow {
  date: string;
  value: string;
  nominal: number;
  unit_rate: string;
}

export interface BinancePriceRow {
  symbol: string;
  price: string;
  updated_at: Date;
}

export async function latestCbrDate(db: Database): Promise<string | null> {
  const row = await db
    .selectFrom('cbr_rates')
    .select(sql<string | null>`max(date)`.as('max'))
    .executeTakeFirst();
  return row?.max ?? null;
}

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

export async function cbrSeries(db: Database, code: string, from: string, to: string): Promise<CbrSeriesRow[]> {
  return db
    .selectFrom('cbr_rates')
    .select(['date', 'value', 'nominal', 'unit_rate'])
    .where('code', '=', code)
    .where('date', '>=', from)
    .where('date', '<=', to)
    .orderBy('date')
    .execute();
}

export async function cbrCodeKnown(db: Database, code: string): Promise<boolean> {
  const row = await db.selectFrom('cbr_rates').select('code').where('code', '=', code).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** The newest CBR rate of one currency (the rate in force now) and its date. */
export async function latestCbrRateOf(
  db: Database,
  code: string,
): Promise<{ date: string; unit_rate: string } | undefined> {
  return db
    .selectFrom('cbr_rates')
    .select(['date', 'unit_rate'])
    .where('code', '=', code)
    .orderBy('date', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function binancePrices(db: Database): Promise<BinancePriceRow[]> {
  return db.selectFrom('binance_prices').select(['symbol', 'price', 'updated_at']).orderBy('symbol').execute();
}
