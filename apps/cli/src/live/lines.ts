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

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;
const parseJson = JSON.parse as (text: string, reviver?: Reviver) => unknown;
/** JSON.rawJSON (Node 21+): a value JSON.stringify writes as the text given. */
const rawJson = (text: string): unknown =>
  (JSON as unknown as { rawJSON(this: void, t: string): unknown }).rawJSON(text);

/** A JSON number that a double cannot hold digit for digit: its source text. */
const inexact = (value: unknown, context?: { source?: string }): string | undefined =>
  typeof value === 'number' && context?.source !== undefined && String(value) !== context.source
    ? context.source
    : undefined;

/**
 * A payload read twice: `summary` with such numbers as decimal strings (the contracts read decimals
 * from either); `exact` with them as raw JSON numerals, which JSON.stringify writes back as they came and
 * the contracts' decimal inputs read exactly. Undefined when not JSON.
 */
export function readPayload(text: string): { summary: unknown; exact: unknown } | undefined {
  try {
    return {
      summary: parseJson(text, (_k, v, c) => inexact(v, c) ?? v),
      exact: parseJson(text, (_k, v, c) => {
        const source = inexact(v, c);
        return source === undefined ? v : rawJson(source);
      }),
    };
  } catch {
    return undefined;
  }
}
