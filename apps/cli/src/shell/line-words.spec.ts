import { describe, expect, it } from 'vitest';

import { lineWords, splitLine, UnclosedQuote } from './line-words.ts';

describe('lineWords', () => {
  it('splits on blanks and keeps quoted text whole', () => {
    expect(lineWords('  rates   binance BTCUSDT ')).toEqual(['rates', 'binance', 'BTCUSDT']);
    expect(lineWords(`alerts add --note 'two words' "and \\"more\\""`)).toEqual([
      'alerts',
      'add',
      '--note',
      'two words',
      'and "more"',
    ]);
    expect(lineWords(`a'b'"c"d`)).toEqual(['abcd']);
    expect(lineWords(`x '' y`)).toEqual(['x', '', 'y']);
  });

  it('keeps a backslashed character outside quotes, and a backslash inside single quotes', () => {
    expect(lineWords('say a\\ b')).toEqual(['say', 'a b']);
    expect(lineWords(`'a\\b' "a\\b"`)).toEqual(['a\\b', 'a\\b']);
  });

  it('drops a comment that starts a word, not a # inside one', () => {
    expect(lineWords('convert 1 USD EUR # a note')).toEqual(['convert', '1', 'USD', 'EUR']);
    expect(lineWords('# only a comment')).toEqual([]);
    expect(lineWords('tag a#b')).toEqual(['tag', 'a#b']);
  });

  it('refuses an unclosed quote', () => {
    expect(() => lineWords(`rates "binance`)).toThrow(UnclosedQuote);
  });
});

describe('splitLine (for completion)', () => {
  it('names the word being typed and whether a new one starts', () => {
    expect(splitLine('rates bi')).toEqual({
      words: ['rates', 'bi'],
      openQuote: null,
      current: 'bi',
      endsWithBlank: false,
    });
    expect(splitLine('rates ')).toEqual({ words: ['rates'], openQuote: null, current: '', endsWithBlank: true });
    expect(splitLine(`rates 'bi`).openQuote).toBe("'");
  });
});
