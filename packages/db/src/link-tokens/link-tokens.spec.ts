import { describe, expect, it } from 'vitest';

import { linkTokenHash, newLinkToken } from './link-tokens.repository.ts';

describe('newLinkToken', () => {
  it('never starts with "-", so a command line takes it as an argument, not an option', () => {
    // unfiltered, one token in 64 would: 2,000 of them all passing has odds of about e^-31
    const tokens = Array.from({ length: 2000 }, newLinkToken);
    expect(tokens.filter((t) => t.startsWith('-'))).toEqual([]);
    expect(tokens.every((t) => linkTokenHash(t) !== null)).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length);
    // the other 63 first characters all occur, '_' among them
    expect(new Set(tokens.map((t) => t[0])).size).toBe(63);
  });
});
