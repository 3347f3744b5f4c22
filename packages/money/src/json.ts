// JSON numbers as exact decimal text, both ways. Out: bodies in the compatible services’ shapes carry money as JSON
// numbers (`"subtotal_rub": 3775.00`); building them through a float could print 0.30000000000000004,
// so the decimal text is marked and written verbatim by JSON.stringify (JSON.rawJSON, Node ≥ 21).
// In: parseJsonExact keeps a number a double cannot hold as its source text (JSON.parse source
// text access), which the decimal input schema of @ratewire/contracts reads digit for digit.
import { decimalParts } from '@ratewire/contracts';

const JSON_NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?$/;

interface RawJson {
  rawJSON(text: string): unknown;
  parse(text: string, reviver: (key: string, value: unknown, context?: { source?: string }) => unknown): unknown;
}
const raw = JSON as unknown as RawJson;

/** A value that JSON.stringify (and Express's res.json) writes as the number `text`, digit for digit. */
export type JsonNumber = { readonly __jsonNumber: unique symbol };

/**
 * Marks an exact decimal string to be written as a JSON number: jsonNumber('3775.00') → 3775.00.
 * Throws for anything that is not plain decimal text (no exponent, no leading zeros, no NaN).
 */
export function jsonNumber(decimal: string): JsonNumber {
  const text = decimal.startsWith('-0') && /^-0(\.0+)?$/.test(decimal) ? decimal.slice(1) : decimal;
  if (!JSON_NUMBER_RE.test(text)) throw new TypeError(`not a plain decimal number: ${JSON.stringify(decimal)}`);
  return raw.rawJSON(text) as JsonNumber;
}

const sameValue = (a: string, b: string): boolean => {
  const x = decimalParts(a);
  const y = decimalParts(b);
  return !!x && !!y && x.negative === y.negative && x.digits === y.digits && x.point === y.point;
};

/**
 * JSON.parse reviver: a number whose double is exactly the value written (75.5, 5.0, 1e3) stays a
 * number; any other (0.10000000000000000001, 1e400, 12345678901234567890123) becomes its source
 * text as a raw JSON value, so no digit is lost to a float. Only the decimal input schema takes
 * those; anywhere else a number is expected they are refused as not a number.
 */
export function exactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  const text = String(value);
  if (text === context.source || sameValue(text, context.source)) return value;
  return raw.rawJSON(context.source);
}

/**
 * Number text a double may not hold: 16 or more digits (a decimal of at most 15 significant digits
 * survives a double, and its shortest text is its value) or an exponent. Matches inside strings too,
 * which only costs the slower parse.
 */
const MAYBE_LOSSY = /\d[\d.]{15}|\d[eE]/;

/**
 * JSON.parse with exactNumbers, for JSON from outside that may carry decimals as numbers. Text with
 * no number a double could lose is parsed as it is (faster, and as deep as JSON.parse goes).
 */
export function parseJsonExact(text: string): unknown {
  if (!MAYBE_LOSSY.test(text)) return JSON.parse(text) as unknown;
  try {
    return raw.parse(text, exactNumbers);
  } catch (err) {
    // the reviver walk is recursive: JSON nested thousands deep overflows it
    if (err instanceof RangeError) throw new SyntaxError('JSON nested too deeply to read its numbers exactly');
    throw err;
  }
}
