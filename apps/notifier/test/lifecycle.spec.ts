import { describe, expect, it } from 'vitest';

import { runWithBadSettings, startThenTerminate } from '@ratewire/testkit';

describe('notifier process', () => {
  it('ends within 5 s of SIGTERM, exit 0, no error logged', async () => {
    const result = await startThenTerminate('notifier', { HEALTH_PORT: '0' }, /"msg":"notifier started"/);
    expect(result.errors).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('refuses to start with a bad setting and names the key', async () => {
    const { code, output } = await runWithBadSettings('notifier', { REDIS_URL: 'http://nope' });
    expect(code).toBe(78);
    expect(output.join('\n')).toMatch(/invalid setting REDIS_URL/);
  });
});
