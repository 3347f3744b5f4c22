// What the forms show when a request is refused: the messages of a form's fields from the
// contract's check or from the service's problem, and a line for the rest (the wait a 429 asks for).
import type { ZodError } from 'zod';

import { ApiError, messageOf } from './api.ts';

/** Field messages by dotted path (`bills.0.count`), the first message of each. */
export type FieldMessages = Record<string, string>;

/** The contract's complaints, by field. */
export function issuesOf(error: ZodError): FieldMessages {
  const out: FieldMessages = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    out[path] ??= issue.message;
  }
  return out;
}

/** The service's complaints, by field (without the `body.` the API puts first). */
export function fieldsOf(err: unknown): FieldMessages {
  const out: FieldMessages = {};
  if (!(err instanceof ApiError)) return out;
  for (const f of err.fields) out[f.path.replace(/^body\.?/, '')] ??= f.message;
  return out;
}

/** "in 42 s" / "in 3 min" for a Retry-After. */
export function waitOf(seconds: number | undefined): string {
  if (!seconds) return 'later';
  return seconds < 120 ? `in ${seconds} s` : `in ${Math.ceil(seconds / 60)} min`;
}

/** A message for a failed request: the wait for 429, the service's words otherwise. */
export function failureText(err: unknown, what = 'That'): string {
  if (err instanceof ApiError) {
    if (err.status === 429) return `Too many attempts. Try again ${waitOf(err.retryAfter)}.`;
    if (err.status === 401) return 'Your session has ended. Log in again.';
    if (err.code === 'email_unconfirmed') return 'Confirm your email address first (open the link we mailed you).';
    if (err.status === 0) return err.message;
    return `${what} did not work: ${err.message}.`.replace(/\.\.$/, '.');
  }
  return messageOf(err);
}
