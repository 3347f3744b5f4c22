// JSON numbers written from exact decimal text. Seed-compatible bodies carry money as JSON numbers
// (`"subtotal_rub": 3775.00`); building them through a float could print 0.30000000000000004, so
// the decimal text is marked and written verbatim by JSON.stringify (JSON.rawJSON, Node ≥ 21).

const JSON_NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?$/;

interface RawJson {
  rawJSON(text: string): unknown;
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
