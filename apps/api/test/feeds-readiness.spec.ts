// GET /readyz reports each feed's age and staleness from feed_status, without failing readiness.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readinessSchema } from '@ratewire/contracts';
import { recordFeedFailure, recordFeedSuccess } from '@ratewire/db';

import { startTestApi, type TestApi } from './harness.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

async function readyz() {
  const res = await fetch(`${t.url}/readyz`);
  return { status: res.status, body: readinessSchema.parse(await res.json()) };
}

describe('GET /readyz feeds', () => {
  it('shows both feeds as stale (never succeeded) before any poll, and stays 200', async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.feeds).toEqual({
      cbr: { last_success_at: null, age_seconds: null, stale: true, consecutive_failures: 0, last_error: null },
      binance: { last_success_at: null, age_seconds: null, stale: true, consecutive_failures: 0, last_error: null },
    });
  });

  it('a recent success is fresh, with its age', async () => {
    const at = new Date(Date.now() - 5000);
    await recordFeedSuccess(t.deps.db, 'binance', 10_000, at);
    const { body } = await readyz();
    expect(body.feeds?.binance).toMatchObject({
      last_success_at: at.toISOString(),
      stale: false,
      consecutive_failures: 0,
    });
    expect(body.feeds?.binance?.age_seconds).toBeGreaterThanOrEqual(5);
    expect(body.feeds?.binance?.age_seconds).toBeLessThan(60);
  });

  it('past three intervals without success the feed is stale, with its failures and last error, and readiness still 200', async () => {
    await recordFeedSuccess(t.deps.db, 'cbr', 120_000, new Date(Date.now() - 361_000));
    await recordFeedFailure(t.deps.db, 'cbr', 120_000, 'HTTP 503 from the source');
    await recordFeedFailure(t.deps.db, 'cbr', 120_000, 'no complete response within 10000 ms');
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.feeds?.cbr).toMatchObject({
      stale: true,
      consecutive_failures: 2,
      last_error: 'no complete response within 10000 ms',
    });
    expect(body.feeds?.cbr?.age_seconds).toBeGreaterThanOrEqual(361);
  });

  it('just inside three intervals is not stale', async () => {
    await recordFeedSuccess(t.deps.db, 'cbr', 120_000, new Date(Date.now() - 300_000));
    const { body } = await readyz();
    expect(body.feeds?.cbr).toMatchObject({ stale: false, consecutive_failures: 0 });
  });
});
