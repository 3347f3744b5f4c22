import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { MAX_JSON_DEPTH, decodeMessage, jsonDepth } from './messages.ts';

const schema = z.object({ job_id: z.string().uuid(), n: z.number().optional() });
const id = '0b7f2c52-8a3e-4c51-9d0e-4f6a1f3e2b10';
const bytes = (text: string) => new TextEncoder().encode(text);
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('decodeMessage', () => {
  it('gives the parsed value of bytes the schema accepts', () => {
    expect(decodeMessage(schema, bytes(JSON.stringify({ job_id: id, n: 2 })))).toEqual({
      ok: true,
      value: { job_id: id, n: 2 },
    });
  });

  it('reads text as it reads bytes', () => {
    expect(decodeMessage(schema, JSON.stringify({ job_id: id }))).toEqual({ ok: true, value: { job_id: id } });
  });

  it('refuses bytes that are not JSON as not-json', () => {
    for (const text of ['', '{"job_id":', 'undefined', '\u0000']) {
      expect(decodeMessage(schema, bytes(text)), text).toEqual({ ok: false, kind: 'not-json', reason: 'not JSON' });
    }
  });

  it('refuses JSON the schema refuses as invalid, naming the paths', () => {
    const result = decodeMessage(schema, bytes('{"job_id":"nope","n":"1"}'));
    expect(result).toMatchObject({ ok: false, kind: 'invalid' });
    expect(!result.ok && result.reason).toMatch(/^job_id: .+; n: .+$/);
    expect(decodeMessage(schema, bytes('[]'))).toMatchObject({ ok: false, kind: 'invalid', reason: /^\(root\): / });
  });

  it('names at most five issues', () => {
    const wide = z.object(Object.fromEntries([...'abcdefg'].map((k) => [k, z.string()])));
    const result = decodeMessage(wide, '{}');
    expect(!result.ok && result.reason.split('; ')).toHaveLength(5);
  });

  it('refuses JSON nested deeper than maxDepth before parsing it, and only when asked', () => {
    const deep = `{"job_id":"${id}","x":${nested(MAX_JSON_DEPTH)}}`;
    expect(decodeMessage(schema, deep, { maxDepth: MAX_JSON_DEPTH })).toEqual({
      ok: false,
      kind: 'too-deep',
      reason: `nested deeper than ${MAX_JSON_DEPTH}`,
    });
    // zod drops the unknown key: without a limit the message is accepted
    expect(decodeMessage(schema, deep)).toEqual({ ok: true, value: { job_id: id } });
    const shallow = `{"job_id":"${id}","x":${nested(MAX_JSON_DEPTH - 1)}}`;
    expect(decodeMessage(schema, shallow, { maxDepth: MAX_JSON_DEPTH }).ok).toBe(true);
  });

  it('keeps a number a double cannot hold as its source text with exactNumbers', () => {
    const text = '{"rate":80.12345678901234567891}';
    const raw = z.object({ rate: z.unknown() });
    const exact = decodeMessage(raw, text, { exactNumbers: true });
    expect(exact.ok && JSON.stringify(exact.value)).toBe(text);
    const lossy = decodeMessage(raw, text);
    expect(lossy.ok && lossy.value.rate).toBe(80.12345678901235);
  });
});

describe('jsonDepth', () => {
  it('counts nested arrays and objects, not brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonDepth('{"a":"[[[{\\"]]]"}')).toBe(1);
    expect(jsonDepth('1')).toBe(0);
  });
});
