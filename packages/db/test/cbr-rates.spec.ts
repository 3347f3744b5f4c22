import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { rateOn, storeCbrDay, type CbrRateInput, type Database } from '../src/index.ts';
import { scratchDatabase, type ScratchDatabase } from './scratch-database.ts';

let scratch: ScratchDatabase;
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
  scratch = await scratchDatabase('cbr', { max: 4 });
  db = scratch.db;
  await storeDay('2026-03-03', [rate('USD', 1, '78.1234', '78.1234'), rate('JPY', 100, '51.5', '0.515')]);
  await storeDay('2026-03-05', [rate('USD', 1, '79.0001', '79.0001')]);
  await storeDay('2026-03-07', [rate('USD', 1, '80.5', '80.5'), rate('JPY', 100, '52.75', '0.5275')]);
});

afterAll(() => scratch?.drop());

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
