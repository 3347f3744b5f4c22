// Reading one message (NATS data or a Redis string) with its zod contract: text → JSON → schema, in
// one call whose result says what was wrong, so every consumer refuses bad input the same way.
import type { z } from 'zod';

import { parseJsonExact } from '@ratewire/money';

/** Why a message was refused: unreadable JSON, JSON nested past `maxDepth`, or JSON the schema refuses. */
export type DecodeFailure = 'not-json' | 'too-deep' | 'invalid';

export type Decoded<T> = { ok: true; value: T } | { ok: false; kind: DecodeFailure; reason: string };

export interface DecodeOptions {
  /** Numbers a double cannot hold stay their source text (parseJsonExact), for the decimal input schema. */
  exactNumbers?: boolean;
  /** Refuse JSON nested deeper than this (MAX_JSON_DEPTH for input from outside); unset: no limit. */
  maxDepth?: number;
}

const decoder = new TextDecoder();

/** How deep inbound JSON may nest: no message of ours needs more, and exact parsing recurses. */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** The first few issues of a refusal, as `path: message; …`. */
export function describeIssues(error: z.ZodError, max = 5): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Decodes `data` (UTF-8 bytes, or text already decoded) as JSON and validates it with `schema`.
 * Never throws: a refusal says its kind and a reason fit for a log line.
 */
export function decodeMessage<T>(
  schema: z.ZodType<T>,
  data: Uint8Array | string,
  options: DecodeOptions = {},
): Decoded<T> {
  const text = typeof data === 'string' ? data : decoder.decode(data);
  if (options.maxDepth !== undefined && jsonDepth(text) > options.maxDepth) {
    return { ok: false, kind: 'too-deep', reason: `nested deeper than ${options.maxDepth}` };
  }
  let json: unknown;
  try {
    json = options.exactNumbers ? parseJsonExact(text) : (JSON.parse(text) as unknown);
  } catch {
    return { ok: false, kind: 'not-json', reason: 'not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, kind: 'invalid', reason: describeIssues(parsed.error) };
  return { ok: true, value: parsed.data };
}
