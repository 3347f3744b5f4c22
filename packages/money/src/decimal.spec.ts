import { describe, expect, it } from 'vitest';

import { unitRate } from './decimal.ts';

describe('unitRate', () => {
  it('divides the quoted value by the nominal', () => {
    expect(unitRate('55.1234', 100)).toBe('0.551234');
    expect(unitRate('0.5393', 10000)).toBe('0.00005393');
    expect(unitRate('18.996', 1000000)).toBe('0.000018996');
  });

  it('writes the value itself for a nominal of 1, without trailing zeros', () => {
    expect(unitRate('97.8335', 1)).toBe('97.8335');
    expect(unitRate('75.50000', 1)).toBe('75.5');
    expect(unitRate('12.0000', 10)).toBe('1.2');
  });

  it('rounds half-up to 20 places', () => {
    expect(unitRate('1', 3)).toBe('0.33333333333333333333');
    expect(unitRate('2', 3)).toBe('0.66666666666666666667');
    expect(unitRate('0.000000000000000000005', 1)).toBe('0.00000000000000000001');
    expect(unitRate('0.000000000000000000004', 1)).toBe('0');
  });

  it('keeps every digit a double would lose (no float in between)', () => {
    expect(unitRate('12345678901234567890.123456789', 1)).toBe('12345678901234567890.123456789');
    expect(unitRate('98765432109876543210.5', 100)).toBe('987654321098765432.105');
    // as a double this is 0.3
    expect(unitRate('0.30000000000000000001', 1)).toBe('0.30000000000000000001');
  });
});
