// A typed line split into words the way a POSIX shell does: blanks separate, 'single quotes' keep
// everything, "double quotes" keep everything but \" \\ \$ \`, a backslash outside quotes keeps the
// next character, and # at the start of a word begins a comment. No expansion of any kind.

export interface SplitLine {
  words: string[];
  /** The line ended inside a quote ('"' or "'"), or null. */
  openQuote: '"' | "'" | null;
  /** The last word, still being typed (empty when the line ends with a blank). */
  current: string;
  /** The line ended with a blank (outside quotes): a new word would start. */
  endsWithBlank: boolean;
}

export function splitLine(line: string): SplitLine {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) word += line[++i];
      else word += c;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (c === '#' && !inWord) break;
    inWord = true;
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\' && i + 1 < line.length) word += line[++i];
    else word += c;
  }
  const endsWithBlank = !inWord && quote === null;
  if (inWord) words.push(word);
  return { words, openQuote: quote, current: inWord ? word : '', endsWithBlank };
}

export class UnclosedQuote extends Error {}

/** The words of a complete line; an unclosed quote is an error. */
export function lineWords(line: string): string[] {
  const split = splitLine(line);
  if (split.openQuote) throw new UnclosedQuote(`unclosed ${split.openQuote}`);
  return split.words;
}
