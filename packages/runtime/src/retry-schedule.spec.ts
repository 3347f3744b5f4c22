import { describe, expect, it } from 'vitest';

import { nextRetryMs } from './retry-schedule.ts';

describe('nextRetryMs', () => {
  it('walks the schedule, repeats its last delay, and stops at the attempt limit', () => {
    const schedule = [0, 5000, 60_000];
    expect([1, 2, 3, 4, 5].map((made) => nextRetryMs(schedule, made, 5))).toEqual([5000, 60_000, 60_000, 60_000, null]);
    expect(nextRetryMs(schedule, 1, 1)).toBeNull();
    expect(nextRetryMs([], 1, 3)).toBe(0);
  });
});
