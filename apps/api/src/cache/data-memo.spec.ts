import { describe, expect, it } from 'vitest';

import { DataMemo } from './data-memo.ts';

/** Versions a test moves by hand. */
function versions() {
  const now = new Map<string, string>();
  return {
    version: (family: string) => now.get(family) ?? 'v0',
    invalidate: (family: string, version = `${Math.random()}`) => void now.set(family, version),
  };
}

describe('DataMemo', () => {
  it('shares one load between readers until the family version changes', async () => {
    const v = versions();
    const memo = new DataMemo<number>(v, 'cbr');
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    expect(await Promise.all([memo.get('k', load), memo.get('k', load)])).toEqual([1, 1]);
    v.invalidate('binance');
    expect(await memo.get('k', load)).toBe(1);
    v.invalidate('cbr');
    expect(await memo.get('k', load)).toBe(2);
  });

  it('does not keep a failed load, and holds at most maxEntries keys', async () => {
    const memo = new DataMemo<string>(versions(), 'cbr', { maxEntries: 2 });
    await expect(memo.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await memo.get('k', () => Promise.resolve('up'))).toBe('up');
    await memo.get('a', () => Promise.resolve('a'));
    await memo.get('b', () => Promise.resolve('b'));
    // 'k' was the oldest of three: it is loaded again
    expect(await memo.get('k', () => Promise.resolve('again'))).toBe('again');
    expect(await memo.get('b', () => Promise.resolve('not again'))).toBe('b');
  });
});
