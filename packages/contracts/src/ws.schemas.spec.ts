import { describe, expect, it } from 'vitest';

import { wsClientOp, wsFrameId } from './ws.schemas.ts';

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
