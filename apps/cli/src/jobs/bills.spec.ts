import { describe, expect, it } from 'vitest';

import { CliError } from '../core/exit-codes.ts';
import { parseBillFlags, parseBillsDocument } from './bills.ts';

const usage = (fn: () => unknown, message: RegExp) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(message);
    return;
  }
  throw new Error('expected a usage error');
};

describe('parseBillFlags', () => {
  it('numbers bills by position unless an id is given; denominations stay strings', () => {
    expect(parseBillFlags(['10x5', '7:0.50X3', ' 20 × 2 ', '100*1'])).toEqual([
      { denomination_id: 1, denomination: '10', count: 5 },
      { denomination_id: 7, denomination: '0.50', count: 3 },
      { denomination_id: 3, denomination: '20', count: 2 },
      { denomination_id: 4, denomination: '100', count: 1 },
    ]);
  });

  it('refuses what is not DENOMINATIONxCOUNT', () => {
    for (const bad of ['10', 'x5', '10x', '-10x5', '10x1.5', 'a:10x5', '10x5x2', ''])
      usage(() => parseBillFlags([bad]), /expected DENOMINATION x COUNT/);
  });
});

describe('parseBillsDocument', () => {
  it('reads CSV with and without ids, quotes and CRLF', () => {
    expect(parseBillsDocument('denomination_id,denomination,count\r\n5,"10",2\r\n', 'f').bills).toEqual([
      { denomination_id: 5, denomination: '10', count: 2 },
    ]);
    expect(parseBillsDocument('Count,Denomination\n3,0.5\n\n1,20\n', 'f').bills).toEqual([
      { denomination_id: 1, denomination: '0.5', count: 3 },
      { denomination_id: 2, denomination: '20', count: 1 },
    ]);
  });

  it('names the CSV line that is wrong', () => {
    usage(() => parseBillsDocument('a,b\n1,2\n', 'x.csv'), /^x\.csv: line 1: expected a CSV header/);
    usage(() => parseBillsDocument('denomination,count\n10\n', 'x.csv'), /^x\.csv: line 2: expected 2 fields/);
    usage(
      () => parseBillsDocument('denomination_id,denomination,count\n1,10,2\nz,10,2\n', 'x.csv'),
      /^x\.csv: line 3: denomination_id: expected a whole number/,
    );
  });

  it('reads a JSON array, or a body whose other fields come along', () => {
    expect(parseBillsDocument('[{"denomination_id":1,"denomination":10,"count":1}]', 'f')).toEqual({
      bills: [{ denomination_id: 1, denomination: 10, count: 1 }],
      rest: {},
    });
    expect(parseBillsDocument('{"currency":"USD","bills":[]}', 'f')).toEqual({ bills: [], rest: { currency: 'USD' } });
    usage(() => parseBillsDocument('{"currency":"USD"}', 'f'), /needs "bills"/);
    usage(() => parseBillsDocument('[1,', 'stdin'), /^stdin: not valid JSON/);
    usage(() => parseBillsDocument('  \n', 'stdin'), /^stdin: empty/);
  });
});
