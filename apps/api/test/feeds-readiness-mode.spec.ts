// GET /readyz shows how the leading worker feeds Binance (stream or polling, and BINANCE_STREAM),
// read from feed_status; CBR, which has no mode, shows none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readinessSchema } from '@ratewire/contracts';
import { recordFeedMode, recordFeedSuccess } from '@ratewire/db';

import { startTestApi, type TestApi } from './harness.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

async function feeds() {
  const res = await fetch(`${t.url}/readyz`);
  expect(res.status).toBe(200);
  return readinessSchema.parse(await res.json()).feeds;
}

describe('GET /readyz feeds: the Binance mode', () => {
  it('shows the mode and setting the leader recorded, and when the mode began', async () => {
    const since = new Date(Date.now() - 2000);
    await recordFeedMode(t.deps.db, 'binance', 10_000, { mode: 'stream', setting: 'auto' }, since);
    await recordFeedSuccess(t.deps.db, 'binance', 10_000);
    const body = await feeds();
    expect(body?.binance).toMatchObject({
      mode: 'stream',
      setting: 'auto',
      mode_since: since.toISOString(),
      stale: false,
    });
    expect(body?.cbr).not.toHaveProperty('mode');
  });

  it('a fallback to polling shows at once; the same mode again keeps its start', async () => {
    const at = new Date(Date.now() - 1000);
    await recordFeedMode(t.deps.db, 'binance', 10_000, { mode: 'polling', setting: 'auto' }, at);
    expect((await feeds())?.binance).toMatchObject({ mode: 'polling', setting: 'auto', mode_since: at.toISOString() });
    await recordFeedMode(t.deps.db, 'binance', 10_000, { mode: 'polling', setting: 'auto' });
    expect((await feeds())?.binance?.mode_since).toBe(at.toISOString());
  });
});
