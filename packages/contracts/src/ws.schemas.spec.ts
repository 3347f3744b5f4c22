import { describe, expect, it } from 'vitest';

import { compareFrameIds, wsClientOp, wsFrameId } from './ws.schemas.ts';

describe('wsFrameId', () => {
  it('accepts ids whose parts fit an unsigned 64-bit integer', () => {
    expect(wsFrameId.safeParse('0-0').success).toBe(true);
    expect(wsFrameId.safeParse('18446744073709551615-18446744073709551615').success).toBe(true);
  });

  it('refuses a part past 2^64 - 1, which no Redis stream entry can have', () => {
    expect(wsFrameId.safeParse('18446744073709551616-0').success).toBe(false);
    expect(wsFrameId.safeParse('0-99999999999999999999').success).toBe(false);
  });

  it('makes a subscribe with such a since a bad request, not a history read', () => {
    const op = { op: 'subscribe', channel: 'tasks', since: '99999999999999999999-99999999999999999999' };
    expect(wsClientOp.safeParse(op).success).toBe(false);
  });

  it('refuses text of another shape with the shape message alone', () => {
    const r = wsFrameId.safeParse('x-1');
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual(['expected a frame id such as 1-0']);
  });
});

describe('compareFrameIds', () => {
  it('orders frame ids numerically, by time then sequence', () => {
    expect(compareFrameIds('1-0', '1-0')).toBe(0);
    expect(compareFrameIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareFrameIds('1000-10', '1000-9')).toBeGreaterThan(0);
    expect(compareFrameIds('1795517984683-2', '1795517984683-12')).toBeLessThan(0);
    expect(compareFrameIds('18446744073709551615-0', '18446744073709551614-9')).toBeGreaterThan(0);
  });

  it('reads leading zeros as a number does', () => {
    expect(compareFrameIds('0001-0', '1-0')).toBe(0);
    expect(compareFrameIds('0009-0', '10-0')).toBeLessThan(0);
    expect(compareFrameIds('5-007', '5-7')).toBe(0);
    expect(compareFrameIds('0-0', '00-00')).toBe(0);
  });
});
