import { describe, expect, it } from 'vitest';

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
