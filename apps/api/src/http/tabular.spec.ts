import { describe, expect, it } from 'vitest';

import { csvCell, tableEtag } from './tabular.ts';

describe('csvCell', () => {
  it('quotes a field holding a comma, a quote or a line break, doubling quotes (RFC 4180)', () => {
    expect(csvCell('Euro')).toBe('Euro');
    expect(csvCell('Dollar, US')).toBe('"Dollar, US"');
    expect(csvCell('the "yuan"')).toBe('"the ""yuan"""');
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvCell('a\nb')).toBe('"a\nb"');
  });

  it('writes numbers and booleans as they are, null and undefined as empty', () => {
    expect(csvCell(100)).toBe('100');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    // decimal strings are never reformatted
    expect(csvCell('0.00010000')).toBe('0.00010000');
  });
});

describe('tableEtag', () => {
  it('is strong, stable for one identity and format, and differs across formats and identities', () => {
    const a = tableEtag('cbrSeries|USD|2024', 'csv');
    expect(a).toMatch(/^"[\w-]{27}"$/);
    expect(tableEtag('cbrSeries|USD|2024', 'csv')).toBe(a);
    expect(tableEtag('cbrSeries|USD|2024', 'json')).not.toBe(a);
    expect(tableEtag('cbrSeries|EUR|2024', 'csv')).not.toBe(a);
  });
});
