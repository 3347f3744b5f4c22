// What the live commands print a line with: a time, text made one line, an option's count.
import { usageError } from '../core/exit-codes.ts';
import { printable } from '../output/table.ts';

/** `--count`: a positive whole number. */
export function parseCount(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (!/^[1-9]\d{0,8}$/.test(text))
    throw usageError(`--count: expected a positive whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** `HH:MM:SS.mmm` (UTC) of an ISO time; the time now when it does not parse. */
export function clock(iso: string | undefined): string {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return new Date(Number.isNaN(t) ? Date.now() : t).toISOString().slice(11, 23);
}

/** Control characters (line breaks too) escaped: one message, one line. */
export const oneLine = (text: string) => printable(text).replace(/\n/g, '\\n');

/** `text` cut to `max` characters, ending with … */
export const cut = (text: string, max = 160) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** An SGR colour around `text` when colour is on (2 dim, 36 cyan, 32 green, 31 red). */
export const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
