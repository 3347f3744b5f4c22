import { describe, expect, it } from 'vitest';

import { decimalInput, decimalParts, positiveDecimalInput } from './decimal.schemas.ts';

const raw = (text: string) => (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON(text);
const parse = (value: unknown) => decimalInput.safeParse(value);

describe('decimalParts', () => {
  it('reads the exact value of number text, whatever the exponent', () => {
    expect(decimalParts('1.50e2')).toEqual({ negative: false, digits: '15', point: 3 });
    expect(decimalParts('-0.0015')).toEqual({ negative: true, digits: '15', point: -2 });
    expect(decimalParts('1e+308')).toEqual({ negative: false, digits: '1', point: 309 });
    expect(decimalParts('-0.000')).toEqual({ negative: false, digits: '', point: 0 });
    expect(decimalParts(`1e${'9'.repeat(400)}`)?.point).toBe(Infinity);
    for (const bad of ['', '1.', '.5', '1e', '0x10', 'Infinity', ' 1', '1 '])
      expect(decimalParts(bad), bad).toBeUndefined();
  });
});

describe('decimalInput', () => {
  it('takes decimal strings as written and numbers as their exact value', () => {
    expect(parse('75.50').data).toBe('75.50');
    expect(parse(' 1 ').data).toBe('1');
    expect(parse(75.5).data).toBe('75.5');
    expect(parse(1e21).data).toBe('1000000000000000000000');
    expect(parse(1e-7).data).toBe('0.0000001');
    expect(parse(-0).data).toBe('0');
    expect(parse(raw('0.12345678901234567891')).data).toBe('0.12345678901234567891');
    expect(parse(raw('123456789012345678901234567890.5e-1')).data).toBe('12345678901234567890123456789.05');
  });

  it('accepts 30 digits before the point and 20 after, and no more, in every form', () => {
    const widest = `${'9'.repeat(30)}.${'9'.repeat(20)}`;
    expect(parse(widest).data).toBe(widest);
    expect(parse(raw(widest)).data).toBe(widest);
    for (const value of [
      `1${'0'.repeat(30)}`,
      `0.${'0'.repeat(20)}1`,
      raw(`1${'0'.repeat(30)}`),
      raw(`0.${'0'.repeat(20)}1`),
      raw('1e308'),
      raw('1e-30'),
      raw(`1e${'9'.repeat(400)}`),
      1e308,
      1e-30,
      1e30,
      '9'.repeat(100_000),
    ]) {
      const result = parse(value);
      expect(result.success, JSON.stringify(value).slice(0, 40)).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/at most 30 digits before the point and 20 after/);
    }
  });

  it('refuses strings with an exponent, NaN, Infinity and anything not a number', () => {
    for (const value of ['1e5', 'NaN', 'Infinity', '0x10', '', '1.', Number.NaN, Infinity, null, {}, [], true]) {
      expect(parse(value).success, JSON.stringify(value)).toBe(false);
    }
  });

  it('positiveDecimalInput refuses zero and negatives in every form', () => {
    for (const value of [0, -0, '0.00', '-1', -1, raw('-0.000000000000000000001'), '-0']) {
      expect(positiveDecimalInput.safeParse(value).success, JSON.stringify(value)).toBe(false);
    }
    expect(positiveDecimalInput.parse(raw('0.00000000000000000001'))).toBe('0.00000000000000000001');
  });
});
