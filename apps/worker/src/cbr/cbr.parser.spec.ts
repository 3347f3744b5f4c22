import { describe, expect, it } from 'vitest';

import { div, equal } from '@ratewire/money';
import { listCbrDailyFixtures, readFixture, spliceBytes } from '@ratewire/testkit/replay/fixtures';

import { CbrParseError, parseCbrDaily, parseCbrNumber } from './cbr.parser.ts';

const recorded = [...listCbrDailyFixtures('daily'), ...listCbrDailyFixtures('eng')];
const COUNTS: Record<string, number> = { '2013-09-26': 35, '2016-10-26': 33 };

describe('parseCbrDaily on every recorded fixture', () => {
  it('finds the recorded fixtures', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(23);
  });

  it.each(recorded)('$path: effective date, counts, exact unit rates', ({ path, date }) => {
    const day = parseCbrDaily(readFixture(path));
    expect(day.date).toBe(date);
    expect(day.rates.length).toBe(COUNTS[date] ?? (date >= '2023-01-01' ? 43 : 34));
    for (const r of day.rates) {
      expect(r.code).toMatch(/^[A-Z]{3}$/);
      expect(r.name.length).toBeGreaterThan(0);
      expect(r.value).toMatch(/^\d+(\.\d+)?$/);
      expect(equal(r.unitRate, div(r.value, r.nominal))).toBe(true);
    }
    const jpy = day.rates.find((r) => r.code === 'JPY');
    expect(jpy?.nominal).toBe(100);
    expect(jpy && equal(div(jpy.value, 100), jpy.unitRate)).toBe(true);
  });

  it('decodes windows-1251 names', () => {
    const day = parseCbrDaily(readFixture('cbr/XML_daily_2024-11-09.xml'));
    expect(day.rates.find((r) => r.code === 'USD')?.name).toBe('Доллар США');
  });

  it('JPY per 100 gives the per-unit rate (2024-11-09: 63,8808 for 100 → 0.638808)', () => {
    const jpy = parseCbrDaily(readFixture('cbr/XML_daily_2024-11-09.xml')).rates.find((r) => r.code === 'JPY');
    expect(jpy).toMatchObject({ nominal: 100, value: '63.8808', unitRate: '0.638808' });
  });

  it('derives the unit rate when VunitRate is absent (2013: JPY 32,3877 for 100)', () => {
    const jpy = parseCbrDaily(readFixture('cbr/XML_daily_2013-09-26.xml')).rates.find((r) => r.code === 'JPY');
    expect(jpy).toMatchObject({ nominal: 100, value: '32.3877', unitRate: '0.323877' });
  });

  it('takes the old slash date "26/09/2013" from ValCurs', () => {
    expect(parseCbrDaily(readFixture('cbr/XML_daily_2013-09-26.xml')).date).toBe('2013-09-26');
  });

  it('takes the effective date from ValCurs, not from anything else', () => {
    const body = spliceBytes(readFixture('cbr/XML_daily_2024-11-09.xml'), 'Date="09.11.2024"', 'Date="12.11.2024"');
    expect(parseCbrDaily(body).date).toBe('2024-11-12');
  });
});

describe('numbers', () => {
  it('expands scientific VunitRate exactly (IRR 5,39256E-05)', () => {
    const irr =
      '<Valute ID="R01305"><NumCode>364</NumCode><CharCode>IRR</CharCode><Nominal>10000</Nominal>' +
      '<Name>IRR</Name><Value>0,5393</Value><VunitRate>5,39256E-05</VunitRate></Valute>';
    const body = spliceBytes(readFixture('cbr/XML_daily_2024-11-09.xml'), '</ValCurs>', `${irr}</ValCurs>`);
    const rate = parseCbrDaily(body).rates.find((r) => r.code === 'IRR');
    expect(rate).toMatchObject({ nominal: 10000, value: '0.5393', unitRate: '0.0000539256' });
  });

  it.each([
    ['29,8618', '29.8618'],
    ['5,39256E-05', '0.0000539256'],
    ['1,5E+03', '1500'],
    ['100,0000', '100'],
    ['7', '7'],
  ])('%s → %s', (raw, expected) => {
    expect(parseCbrNumber(raw)).toBe(expected);
  });

  it.each(['', 'abc', '1,2,3', '1e', '12.3.4', 'NaN', 'Infinity', '0x10'])('rejects %j', (raw) => {
    expect(() => parseCbrNumber(raw)).toThrow(CbrParseError);
  });
});

describe('re-encoded copies', () => {
  it.each(['cbr/reencoded/XML_daily_2021-11-24.xml', 'cbr/reencoded/XML_daily_2024-10-15.xml'])(
    'rejects %s: UTF-8 bytes labelled windows-1251',
    (path) => {
      expect(() => parseCbrDaily(readFixture(path))).toThrow(/UTF-8 but its XML declaration says windows-1251/);
    },
  );

  it.each([
    ['cbr/reencoded/XML_daily_2021-12-07.xml', '2021-12-07', 34],
    ['cbr/reencoded/XML_daily_2023-09-27.xml', '2023-09-27', 43],
    ['cbr/reencoded/XML_daily_2002-09-21.xml', '2002-09-21', 17],
    ['cbr/reencoded/XML_daily_eng_2020-11-11.xml', '2020-11-11', 34],
  ])('accepts %s: UTF-8 without a contrary declaration', (path, date, count) => {
    const day = parseCbrDaily(readFixture(path));
    expect(day.date).toBe(date);
    expect(day.rates).toHaveLength(count);
    if (!path.includes('eng')) expect(day.rates.find((r) => r.code === 'USD')?.name).toBe('Доллар США');
  });

  it('2002: TRL per 1,000,000 gives an exact unit rate', () => {
    const trl = parseCbrDaily(readFixture('cbr/reencoded/XML_daily_2002-09-21.xml')).rates.find(
      (r) => r.code === 'TRL',
    );
    expect(trl).toMatchObject({ nominal: 1000000, value: '18.996', unitRate: '0.000018996' });
  });
});

describe('rejected answers', () => {
  const good = () => readFixture('cbr/XML_daily_2024-11-09.xml');
  const cases: [string, () => Buffer, RegExp][] = [
    ['an HTML page', () => Buffer.from('<!DOCTYPE html><html><body>Service unavailable</body></html>'), /DOCTYPE/],
    ['an HTML page without doctype', () => Buffer.from('<html><body><p>error</p></body></html>'), /root element/],
    ['a truncated document', () => good().subarray(0, 3000), /not well-formed/],
    ['an empty body', () => Buffer.alloc(0), /empty body/],
    ['a JSON body', () => Buffer.from('{"Date":"2024-11-09"}'), /not well-formed|root element/],
    ['XML_dynamic (Record items)', () => readFixture('cbr/XML_dynamic_R01375_2021-10-24_2021-10-27.xml'), /Date/],
    [
      'an entity declaration',
      () =>
        Buffer.from(
          '<?xml version="1.0"?><!DOCTYPE ValCurs [<!ENTITY x "y">]><ValCurs Date="01.01.2024">&x;</ValCurs>',
        ),
      /DOCTYPE/,
    ],
    ['duplicate codes', () => spliceBytes(good(), '<CharCode>AZN</CharCode>', '<CharCode>AUD</CharCode>'), /duplicate/],
    ['a zero value', () => spliceBytes(good(), '<Value>65,0984</Value>', '<Value>0,0000</Value>'), /positive/],
    ['a negative value', () => spliceBytes(good(), '<Value>65,0984</Value>', '<Value>-65,0984</Value>'), /positive/],
    ['a garbage value', () => spliceBytes(good(), '<Value>65,0984</Value>', '<Value>n/a</Value>'), /not a number/],
    ['a missing value', () => spliceBytes(good(), '<Value>65,0984</Value>', ''), /missing <Value>/],
    ['a zero nominal', () => spliceBytes(good(), '<Nominal>1</Nominal>', '<Nominal>0</Nominal>'), /Nominal/],
    [
      'a VunitRate far from Value / Nominal',
      () => spliceBytes(good(), '<VunitRate>65,0984</VunitRate>', '<VunitRate>6,50984</VunitRate>'),
      /disagrees/,
    ],
    ['a bad date', () => spliceBytes(good(), 'Date="09.11.2024"', 'Date="31.02.2024"'), /not a date/],
    ['no date', () => spliceBytes(good(), 'Date="09.11.2024"', ''), /no Date/],
    ['a bad code', () => spliceBytes(good(), '<CharCode>AUD</CharCode>', '<CharCode>A1</CharCode>'), /CharCode/],
  ];
  it.each(cases)('%s', (_name, body, message) => {
    expect(() => parseCbrDaily(body())).toThrow(CbrParseError);
    expect(() => parseCbrDaily(body())).toThrow(message);
  });

  it('an empty ValCurs parses to no rates (the caller decides what that means)', () => {
    const day = parseCbrDaily(
      Buffer.from(
        '<?xml version="1.0" encoding="windows-1251"?><ValCurs Date="01.01.1990" name="Foreign Currency Market"></ValCurs>',
      ),
    );
    expect(day).toEqual({ date: '1990-01-01', rates: [] });
  });
});
