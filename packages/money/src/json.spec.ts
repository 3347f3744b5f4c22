import { describe, expect, it } from 'vitest';

import { jsonNumber, parseJsonExact } from './json.ts';

describe('jsonNumber', () => {
  it('is written by JSON.stringify as the exact decimal text', () => {
    const text = JSON.stringify({ subtotal_rub: jsonNumber('3775.00'), rate: jsonNumber('0.30000000000000000001') });
    expect(text).toBe('{"subtotal_rub":3775.00,"rate":0.30000000000000000001}');
  });

  it('keeps large values exact, beyond what a double holds', () => {
    expect(JSON.stringify([jsonNumber('4155043476584301542660.00')])).toBe('[4155043476584301542660.00]');
  });

  it('writes negative zero as 0 and accepts negative values', () => {
    expect(JSON.stringify([jsonNumber('-0.00'), jsonNumber('-12.5')])).toBe('[0.00,-12.5]');
  });

  it('refuses text that is not a plain decimal', () => {
    for (const bad of ['', '1e5', 'NaN', '01.5', '1.', '.5', ' 1', '0x10', 'Infinity']) {
      expect(() => jsonNumber(bad), bad).toThrow(TypeError);
    }
  });
});

describe('parseJsonExact', () => {
  const isRaw = (v: unknown) => (JSON as unknown as { isRawJSON(v: unknown): boolean }).isRawJSON(v);

  it('keeps numbers whose double is the value written as numbers', () => {
    const parsed = parseJsonExact('{"a":75.5,"b":5.0,"c":1e3,"d":-0,"e":[1,2.25]}') as Record<string, unknown>;
    expect(parsed).toEqual({ a: 75.5, b: 5, c: 1000, d: -0, e: [1, 2.25] });
  });

  it('keeps any other number as its source text', () => {
    const parsed = parseJsonExact('{"a":0.12345678901234567891,"b":[1e400],"c":12345678901234567890123}') as {
      a: unknown;
      b: unknown[];
      c: unknown;
    };
    for (const v of [parsed.a, parsed.b[0], parsed.c]) expect(isRaw(v)).toBe(true);
    expect(JSON.stringify(parsed)).toBe('{"a":0.12345678901234567891,"b":[1e400],"c":12345678901234567890123}');
  });

  it('keeps a 16-digit integer a double cannot hold, and reads JSON nested as deep as JSON.parse does', () => {
    expect(isRaw(parseJsonExact('[9007199254740993]') as unknown[])).toBe(false);
    expect(isRaw((parseJsonExact('[9007199254740993]') as unknown[])[0])).toBe(true);
    let value = parseJsonExact(`${'['.repeat(20_000)}1${']'.repeat(20_000)}`);
    let depth = 0;
    for (; Array.isArray(value); depth++) value = value[0] as unknown;
    expect([depth, value]).toEqual([20_000, 1]);
  });
});
