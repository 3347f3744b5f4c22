import { describe, expect, it } from 'vitest';

import { loginBody, registerBody } from './auth.schemas.ts';
import { currencyCreateBody } from './currencies.schemas.ts';
import { exchangeJobBody } from './jobs.schemas.ts';
import { isStorableText, text, TEXT_REFUSED_MESSAGE } from './text.schemas.ts';
import { wsClientOp } from './ws.schemas.ts';

describe('text()', () => {
  it.each([
    ['U+0000', 'a\u0000b', false],
    ['an unpaired high surrogate', 'a\ud83d', false],
    ['an unpaired low surrogate', '\ude00a', false],
    ['a pair in the wrong order', '\ude00\ud83d', false],
    ['a well-formed pair', 'a\ud83d\ude00', true],
    ['other control characters', 'tab\tnl\n\u0001', true],
    ['the empty string', '', true],
  ])('%s: storable is %s', (_name, value, ok) => {
    expect(isStorableText(value)).toBe(ok);
    expect(text().safeParse(value).success).toBe(ok);
  });

  it('checks the raw value first and stops there: one issue, whatever else the field requires', () => {
    const schema = text()
      .trim()
      .min(5)
      .regex(/^[a-z]+$/);
    const result = schema.safeParse(' \u0000 ');
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: [], message: TEXT_REFUSED_MESSAGE })]);
    expect(schema.parse('  abcdef  ')).toBe('abcdef');
  });

  it('is what the request contracts build their text fields from', () => {
    const paths = (r: { error?: { issues: { path: PropertyKey[] }[] } }) =>
      r.error?.issues.map((i) => i.path.join('.'));
    expect(paths(loginBody.safeParse({ email: 'a\u0000@b.test', password: 'x' }))).toEqual(['email']);
    expect(paths(registerBody.safeParse({ email: 'a@b.test', password: 'long-enough', name: '\ud800' }))).toEqual([
      'name',
    ]);
    expect(paths(currencyCreateBody.safeParse({ code: 'USD', name: 'x\u0000', rate: 1 }))).toEqual(['name']);
    const job = { request_id: 'r\u0000', callback_url: 'https://e.test/\ud800', exchange_rate: 1, bills: [] };
    expect(paths(exchangeJobBody.safeParse(job))).toEqual(expect.arrayContaining(['request_id', 'callback_url']));
    expect(paths(wsClientOp.safeParse({ op: 'auth', token: 'a\u0000' }))).toEqual(['token']);
  });
});
