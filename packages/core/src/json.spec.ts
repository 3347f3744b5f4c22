import { describe, expect, it } from 'vitest';

import { jsonNumber } from './json.ts';

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
