// Alerts judged by real worker processes sharing one NATS and one database: a backlog of rate
// changes, the evaluating worker killed with SIGKILL in the middle of it, then two workers finishing
// it side by side. Every firing the rates call for exists exactly once, and each was announced.
import { connect, type NatsConnection } from 'nats';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SUBJECTS } from '@ratewire/contracts';
import {
  FEEDS_OUT_OF_REACH,
  createTestDatabase,
  killApps,
  spawnApp,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '@ratewire/testkit';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

import { ALERT_EVALUATORS, ALERT_TICKS_STREAM } from '../src/alerts/alerts.consumer.ts';
import { seedUser } from './jobs-support.ts';

let database: TestDatabase;
let nats: PrivateServer;
let nc: NatsConnection;
const workers: AppProcess[] = [];
const announced = new Set<string>();

const SYMBOLS = 40;
const PER_SYMBOL = 50;
const TICKS = 40;

beforeAll(async () => {
  database = await createTestDatabase();
  nats = await startPrivateNats();
  nc = await connect({ servers: nats.url });
  nc.subscribe(SUBJECTS.alertsTriggered, {
    callback: (_e, m) => announced.add(m.json<{ event_id: string }>().event_id),
  });
});
afterAll(async () => {
  await killApps(workers);
  await nc?.close();
  await nats?.close();
  await database?.drop();
});

const spawn = async () => {
  const w = spawnApp('worker', {
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    ...FEEDS_OUT_OF_REACH,
    ALERTS_ACK_WAIT_MS: '3000',
  });
  workers.push(w);
  await w.waitForLine(/"msg":"evaluating alerts"/, 30_000);
  return w;
};

const count = async (q: ReturnType<typeof sql<{ n: string }>>) => Number((await q.execute(database.db)).rows[0]!.n);
const firings = () => count(sql<{ n: string }>`select count(*) as n from alert_events`);

describe('alert evaluation with a worker killed mid-tick', () => {
  it('fires exactly once per (alert, observation), none lost, none doubled', { timeout: 180_000 }, async () => {
    const owner = await seedUser(database.db);
    const symbols = Array.from({ length: SYMBOLS }, (_, i) => `KILL${i}USDT`);
    // per symbol: every_time crossings of 100 (fire on each rise through it) and once-only above 105
    await sql`
      insert into alerts (user_id, source, symbol, condition_type, level, frequency, channels)
      select ${owner}, 'binance', s, case when i % 5 = 0 then 'above' else 'crosses_above' end,
             case when i % 5 = 0 then 105 else 100 end,
             case when i % 5 = 0 then 'once' else 'every_time' end, '{ws}'
      from unnest(${symbols}::text[]) as s, generate_series(1, ${PER_SYMBOL}) as i`.execute(database.db);
    const crossing = SYMBOLS * PER_SYMBOL * 0.8;
    const once = SYMBOLS * PER_SYMBOL * 0.2;

    // the first worker makes the stream; the backlog is published while it is the only one
    const first = await spawn();
    const base = Date.parse('2026-12-01T12:00:00Z');
    for (let t = 0; t < TICKS; t++) {
      const price = t % 2 === 0 ? '90' : '110';
      const previous = t === 0 ? null : t % 2 === 0 ? '110' : '90';
      const event = {
        ts: new Date(base + t * 10_000).toISOString(),
        changed: symbols.map((symbol) => ({ symbol, price, previous })),
      };
      // as a poll does: the prices stored first, then the change announced
      await sql`
        insert into binance_price_history (symbol, price, observed_at)
        select s, ${price}::numeric, ${event.ts}::timestamptz from unnest(${symbols}::text[]) as s`.execute(
        database.db,
      );
      nc.publish(SUBJECTS.ratesBinanceUpdated, JSON.stringify(event));
    }
    await nc.flush();
    // each odd tick rises through 100: TICKS / 2 crossings per crossing alert; the once alerts at the first
    const expected = crossing * (TICKS / 2) + once;

    await waitFor(async () => (await firings()) > 0, { timeoutMs: 60_000, intervalMs: 5, what: 'a first firing' });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await firings()).toBeLessThan(expected);

    await Promise.all([spawn(), spawn()]);
    await waitFor(async () => (await firings()) >= expected, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `${expected} firings`,
    });
    // nothing more arrives: the count settles at exactly what the rates call for
    await new Promise((r) => setTimeout(r, 1000));
    expect(await firings()).toBe(expected);
    // the killed worker held a tick it never acknowledged: JetStream handed it out again
    const info = await (await nc.jetstreamManager()).consumers.info(ALERT_TICKS_STREAM, ALERT_EVALUATORS);
    expect(info.delivered.consumer_seq).toBeGreaterThan(info.delivered.stream_seq);
    expect(
      await count(sql<{ n: string }>`
        select count(*) as n from (select alert_id, observation from alert_events
                                   group by 1, 2 having count(*) > 1) d`),
    ).toBe(0);
    // per crossing alert: one firing for each rising tick, on that tick's observation
    expect(
      await count(sql<{ n: string }>`
        select count(*) as n from alerts a
        where a.condition_type = 'crosses_above'
          and (select count(*) from alert_events e where e.alert_id = a.id) <> ${TICKS / 2}`),
    ).toBe(0);
    expect(await count(sql<{ n: string }>`select count(*) as n from alerts where status = 'triggered'`)).toBe(once);

    // every firing was announced — those the killed worker committed but never published, by the sweep
    const ids = (await database.db.selectFrom('alert_events').select('id').execute()).map((r) => r.id);
    await waitFor(() => ids.every((id) => announced.has(id)), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'every firing announced on alerts.triggered',
    });
    expect(await count(sql<{ n: string }>`select count(*) as n from alert_events where published_at is null`)).toBe(0);
  });
});
