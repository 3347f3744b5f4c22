import { describe, expect, it } from 'vitest';

import { calculateExchange } from './exchange.ts';

describe('calculateExchange', () => {
  it('computes the method guide’s example: rate 75.5, bills 10×5 and 20×3 → 3775.00 and 4530.00', () => {
    const result = calculateExchange('75.5', [
      { denomination_id: 1, denomination: '10', count: 5 },
      { denomination_id: 2, denomination: '20', count: 3 },
    ]);
    expect(result).toEqual({
      breakdown: [
        { denomination_id: 1, subtotal_rub: '3775.00' },
        { denomination_id: 2, subtotal_rub: '4530.00' },
      ],
      total_rub: '8305.00',
    });
  });

  it('rounds each subtotal half-up to 2 places and sums the rounded subtotals', () => {
    // 0.5 × 1 × 0.01 = 0.005 → 0.01 (half-up); twice → total 0.02, not round(0.01) = 0.01
    const result = calculateExchange('0.01', [
      { denomination_id: 7, denomination: '0.5', count: 1 },
      { denomination_id: 8, denomination: '0.5', count: 1 },
    ]);
    expect(result.breakdown.map((l) => l.subtotal_rub)).toEqual(['0.01', '0.01']);
    expect(result.total_rub).toBe('0.02');
  });

  it('stays exact where binary floating point would drift', () => {
    // 0.1 × 3 × 1.1 in floats is 0.33000000000000007; exactly it is 0.33
    const result = calculateExchange('1.1', [{ denomination_id: 1, denomination: '0.1', count: 3 }]);
    expect(result.breakdown[0]?.subtotal_rub).toBe('0.33');
    const big = calculateExchange('92.2628', [
      { denomination_id: 1, denomination: '5000', count: 9_007_199_254_740_991 },
    ]);
    expect(big.total_rub).toBe('4155147117001585522174.00');
  });

  it('keeps every digit of the products and the total at the decimal input limits', () => {
    const bill = {
      denomination_id: 1,
      denomination: '999999999999999999999999999999.99999999999999999999',
      count: 9_007_199_254_740_991,
    };
    const result = calculateExchange('123456789012345678901234567890.12345678901234567891', [bill, bill]);
    const subtotal = '1111999897984715765336370576533637057653363705765404202571121352652346636294.23';
    expect(result.breakdown.map((l) => l.subtotal_rub)).toEqual([subtotal, subtotal]);
    expect(result.total_rub).toBe('2223999795969431530672741153067274115306727411530808405142242705304693272588.46');
  });

  it('answers an empty breakdown and a zero total for no bills', () => {
    expect(calculateExchange('75.5', [])).toEqual({ breakdown: [], total_rub: '0.00' });
  });
});
