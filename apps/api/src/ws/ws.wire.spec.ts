import { describe, expect, it } from 'vitest';

import { compareIds } from './ws.channels.ts';
import { textFrame } from './ws.wire.ts';

describe('textFrame', () => {
  // RFC 6455 §5.2: FIN + opcode 1, no mask, 7-bit / 16-bit / 64-bit payload length
  it.each([
    [0, '8100'],
    [125, '817d'],
    [126, '817e007e'],
    [65_535, '817effff'],
    [65_536, '817f0000000000010000'],
    [200_000, '817f0000000000030d40'],
  ])('frames %i bytes with header %s', (size, header) => {
    const payload = Buffer.alloc(size, 'a');
    const wire = textFrame(payload);
    const headerLength = header.length / 2;
    expect(wire.subarray(0, headerLength).toString('hex')).toBe(header);
    expect(wire.length).toBe(headerLength + size);
    expect(wire.subarray(headerLength).equals(payload)).toBe(true);
  });
});

describe('compareIds', () => {
  it('orders stream ids numerically, by time then sequence', () => {
    expect(compareIds('1-0', '1-0')).toBe(0);
    expect(compareIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareIds('1000-10', '1000-9')).toBeGreaterThan(0);
    expect(compareIds('1795517984683-2', '1795517984683-12')).toBeLessThan(0);
  });
});
