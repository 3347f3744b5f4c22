import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { getFeedStatus } from '@ratewire/db';
import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';

import { testLog } from '../../test/support.ts';
import { FeedError } from './feed-http.ts';
import { FeedPoller, backoffDelay } from './feed-poller.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('backoffDelay', () => {
  it('grows exponentially from the interval, with jitter between half and all of it, up to the cap', () => {
    expect(backoffDelay(1000, 1, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(1000, 1, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(1000, 3, 60_000, () => 1)).toBe(4000);
    expect(backoffDelay(1000, 30, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelay(1000, 30, 60_000, () => 0)).toBe(30_000);
  });
});

describe('FeedPoller', () => {
  it('pollNow joins the poll in flight instead of starting another', async () => {
    let calls = 0;
    let release!: () => void;
    const poller = new FeedPoller({
      source: 'cbr',
      intervalMs: 60_000,
      db: database.db,
      log: testLog,
      poll: async () => {
        calls += 1;
        await new Promise<void>((r) => (release = r));
        return { summary: 'ok' };
      },
    });
    const first = poller.pollNow();
    const second = poller.pollNow();
    expect(second).toBe(first);
    await waitFor(() => calls === 1);
    release();
    expect(await Promise.all([first, second])).toEqual([
      { ok: true, summary: 'ok' },
      { ok: true, summary: 'ok' },
    ]);
    expect(calls).toBe(1);
  });

  it('after a failure it retries on the backoff schedule, and a success resets the count', async () => {
    let calls = 0;
    const poller = new FeedPoller({
      source: 'binance',
      intervalMs: 1000,
      db: database.db,
      log: testLog,
      random: () => 0, // shortest jitter: 500 ms, then 1000 ms
      poll: () => {
        calls += 1;
        if (calls <= 2) return Promise.reject(new FeedError('server', 'HTTP 502 from the source', { status: 502 }));
        return Promise.resolve({ summary: 'fine' });
      },
    });
    poller.start();
    try {
      await waitFor(() => calls >= 3, { timeoutMs: 10_000 });
      await waitFor(async () => (await getFeedStatus(database.db, 'binance'))?.consecutive_failures === 0);
      const status = await getFeedStatus(database.db, 'binance');
      expect(status?.last_error).toBe('HTTP 502 from the source');
    } finally {
      await poller.stop();
    }
  });

  it('stop({abort}) abandons the poll in flight without recording a failure', async () => {
    const before = await getFeedStatus(database.db, 'cbr');
    const poller = new FeedPoller({
      source: 'cbr',
      intervalMs: 60_000,
      db: database.db,
      log: testLog,
      poll: (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new FeedError('aborted', 'request aborted'))),
        ),
    });
    poller.start();
    await waitFor(() => poller.active);
    await new Promise((r) => setTimeout(r, 20));
    await poller.stop({ abort: true });
    const after = await getFeedStatus(database.db, 'cbr');
    expect(after?.consecutive_failures).toBe(before?.consecutive_failures);
  });
});
