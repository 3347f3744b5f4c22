import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { commonSettingsSchema } from '@ratewire/contracts';
import { parseSettings } from '@ratewire/core';

import {
  assertMigrated,
  createDb,
  createMigrator,
  createPool,
  ensureDatabase,
  rateOn,
  storeCbrDay,
  type CbrRateInput,
  type Database,
} from '../src/index.ts';

const base = parseSettings(commonSettingsSchema, process.env).DATABASE_URL;
const name = `rw_t_cbr_${randomBytes(4).toString('hex')}`;
const url = Object.assign(new URL(base), { pathname: `/${name}` }).toString();
let db: Database;

const rate = (code: string, nominal: number, value: string, unitRate: string): CbrRateInput => ({
  code,
  numCode: null,
  cbrId: null,
  name: code,
  nominal,
  value,
  unitRate,
});

const storeDay = (date: string, rates: CbrRateInput[]) =>
  db.transaction().execute((trx) => storeCbrDay(trx, { date, rates }));

beforeAll(async () => {
  await ensureDatabase(url);
  db = createDb(createPool(url, { max: 4 }));
  assertMigrated(await createMigrator(db).migrateToLatest());
  await storeDay('2026-03-03', [rate('USD', 1, '78.1234', '78.1234'), rate('JPY', 100, '51.5', '0.515')]);
  await storeDay('2026-03-05', [rate('USD', 1, '79.0001', '79.0001')]);
  await storeDay('2026-03-07', [rate('USD', 1, '80.5', '80.5'), rate('JPY', 100, '52.75', '0.5275')]);
});

afterAll(async () => {
  await db.destroy();
  const admin = new pg.Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });
  await admin.connect();
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
});

describe('rateOn', () => {
  it('answers the newest stored unit rate and its date without a date', async () => {
    expect(await rateOn(db, 'USD')).toEqual({ date: '2026-03-07', unit_rate: '80.5' });
    expect(await rateOn(db, 'JPY')).toEqual({ date: '2026-03-07', unit_rate: '0.5275' });
  });

  it('answers the rate of the newest stored day not after the date', async () => {
    expect(await rateOn(db, 'USD', '2026-03-05')).toEqual({ date: '2026-03-05', unit_rate: '79.0001' });
    expect(await rateOn(db, 'USD', '2026-03-06')).toEqual({ date: '2026-03-05', unit_rate: '79.0001' });
    // JPY was not in the 5 March day: the 3 March rate is still the one in force
    expect(await rateOn(db, 'JPY', '2026-03-06')).toEqual({ date: '2026-03-03', unit_rate: '0.515' });
    expect(await rateOn(db, 'USD', '2030-01-01')).toEqual({ date: '2026-03-07', unit_rate: '80.5' });
  });

  it('answers undefined for a currency or a day with no stored rate', async () => {
    expect(await rateOn(db, 'EUR')).toBeUndefined();
    expect(await rateOn(db, 'USD', '2026-03-02')).toBeUndefined();
  });

  it('answers 1 for RUB, on any day, with no CBR date', async () => {
    expect(await rateOn(db, 'RUB')).toEqual({ unit_rate: '1' });
    expect(await rateOn(db, 'RUB', '1990-01-01')).toEqual({ unit_rate: '1' });
  });
});
