// Reading one message (NATS data or a Redis string) with its zod contract: text → JSON → schema, in
// one call whose result says what was wrong, so every consumer refuses bad input the same way.
import type { z } from 'zod';

import { jsonDepth, parseJsonExact } from './json.ts';

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
