// Text a client sends. Every string field of a REST body, query or path and of a /ws frame starts
// from `text()`, so what Postgres cannot hold is refused where the input is parsed (422 naming the
// field), never by the database (a 500): `text` and `jsonb` refuse U+0000, and `jsonb` refuses an
// unpaired UTF-16 surrogate (which `text` would silently turn into U+FFFD).
import { z } from 'zod';

export const TEXT_REFUSED_MESSAGE = 'must not contain U+0000 (NUL) or an unpaired surrogate';

/** True when Postgres `text` and `jsonb` can hold `value` as it is. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed();
}

/**
 * `z.string()` for input: the check runs first, on the raw value, and stops the field there
 * (`abort`), so the field gets one clear error. Chain `.trim()`, `.max()`, `.regex()`… after it.
 */
export const text = () => z.string().refine(isStorableText, { message: TEXT_REFUSED_MESSAGE, abort: true });
