// The CBR poller against the replay server, the real Postgres and the real NATS.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SUBJECTS, cbrFetchDayReply, type CbrUpdatedEvent, type CurrencyEvent } from '@ratewire/contracts';
import type { CurrencyRow } from '@ratewire/db';
import { div, equal } from '@ratewire/money';
import type { NatsConnection } from '@ratewire/runtime';
import { createTestDatabase, type TestDatabase } from '@ratewire/testkit';
import { listCbrDailyFixtures, readFixture } from '@ratewire/testkit/replay/fixtures';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

import { CbrClient } from '../src/cbr/cbr.client.ts';
import { serveCbrFetchDay } from '../src/cbr/cbr.fetch-day.ts';
import { parseCbrDaily, type CbrRate } from '../src/cbr/cbr.parser.ts';
import { fetchCbrDay, pollCbr, type CbrServiceDeps } from '../src/cbr/cbr.service.ts';
import { FeedPoller } from '../src/feeds/feed-poller.ts';
import { collect, connectNats, testLog, type Collector } from './support.ts';

const fixtures = listCbrDailyFixtures('daily');
const fixtureDates = new Set(fixtures.map((f) => f.date));

let database: TestDatabase;
let replay: ReplayServer;
let nats: NatsConnection;
let deps: CbrServiceDeps & { nats: NatsConnection };
let poller: FeedPoller;
let rates: Collector<CbrUpdatedEvent>;
let currencies: Collector<CurrencyEvent>;

beforeAll(async () => {
  database = await createTestDatabase();
  replay = await startReplayServer();
  nats = await connectNats();
  deps = { client: new CbrClient({ baseUrl: replay.url, timeoutMs: 2000 }), db: database.db, log: testLog, nats };
  poller = new FeedPoller({
    source: 'cbr',
    intervalMs: 60_000,
    db: database.db,
    log: testLog,
    poll: (signal) => pollCbr(deps, signal),
  });
  // other suites share this NATS: keep only events about this suite's days
  rates = collect<CbrUpdatedEvent>(nats, SUBJECTS.ratesCbrUpdated, (e) => fixtureDates.has(e.date));
  currencies = collect<CurrencyEvent>(
    nats,
    'currencies.*',
    (e, subject) => subject !== SUBJECTS.currenciesDeleted && e.source === 'cbr',
  );
});

afterAll(async () => {
  rates?.stop();
  currencies?.stop();
  await poller?.stop();
  await nats?.drain();
  await replay?.close();
  await database?.drop();
});

const serve = (path: string) => replay.respond('/scripts/XML_daily.asp', { fixture: path });

async function currencyRows() {
  const rows = await database.db.selectFrom('currencies').selectAll().orderBy('code').$castTo<CurrencyRow>().execute();
  return new Map(rows.map((r) => [r.code, r]));
}

describe('CBR poll over every recorded fixture, oldest first', () => {
  it('stores each day under its ValCurs date and publishes exactly the changed codes', async () => {
    const latest = new Map<string, CbrRate>();
    for (const { path, date } of fixtures) {
      const parsed = parseCbrDaily(readFixture(path));
      const before = await currencyRows();
      const eventsBefore = rates.messages.length;
      const currencyEventsBefore = currencies.messages.length;
      serve(path);

      const outcome = await poller.pollNow();
      expect(outcome, path).toMatchObject({ ok: true });
      await rates.settle(nats);

      // history: every code under the effective date, values exact
      const stored = await database.db.selectFrom('cbr_rates').selectAll().where('date', '=', date).execute();
      expect(stored).toHaveLength(parsed.rates.length);
      for (const row of stored) {
        const r = parsed.rates.find((p) => p.code === row.code)!;
        expect(equal(row.value, r.value) && equal(row.unit_rate, r.unitRate) && row.nominal === r.nominal).toBe(true);
      }

      // the event: the codes whose rate differs from the latest stored one before this day
      const expected = parsed.rates.filter((r) => {
        const p = latest.get(r.code);
        return !p || p.nominal !== r.nominal || !equal(p.value, r.value) || !equal(p.unitRate, r.unitRate);
      });
      const events = rates.messages.slice(eventsBefore).map((m) => m.data);
      if (expected.length === 0) {
        expect(events).toEqual([]);
      } else {
        expect(events).toHaveLength(1);
        const event = events[0]!;
        expect(event.date).toBe(date);
        expect(event.changed.map((c) => c.code).sort()).toEqual(expected.map((r) => r.code).sort());
        for (const c of event.changed) {
          const r = parsed.rates.find((p) => p.code === c.code)!;
          expect(equal(c.value, r.value) && equal(c.unit_rate, r.unitRate) && c.nominal === r.nominal).toBe(true);
          const p = latest.get(c.code);
          if (p) expect(c.previous && equal(c.previous.value, p.value) && c.previous.nominal === p.nominal).toBe(true);
          else expect(c.previous).toBeNull();
        }
      }

      // currencies: each code at this day's rate; updated_at moved exactly where the rate changed
      const after = await currencyRows();
      const changedCodes: string[] = [];
      for (const r of parsed.rates) {
        const row = after.get(r.code)!;
        expect(equal(row.rate, r.value) && row.nominal === r.nominal, `${date} ${r.code}`).toBe(true);
        const old = before.get(r.code);
        const rateChanged = !old || !equal(old.rate, r.value) || old.nominal !== r.nominal;
        if (rateChanged) changedCodes.push(r.code);
        if (old) expect(row.updated_at.getTime() !== old.updated_at.getTime(), `${date} ${r.code}`).toBe(rateChanged);
      }
      const currencyEvents = currencies.messages
        .slice(currencyEventsBefore)
        .filter((m) => changedCodes.includes(m.data.code));
      expect(currencyEvents.map((m) => m.data.code).sort()).toEqual(changedCodes.sort());
      for (const m of currencyEvents) {
        const row = after.get(m.data.code)!;
        expect(m.subject).toBe(before.has(m.data.code) ? SUBJECTS.currenciesUpdated : SUBJECTS.currenciesCreated);
        expect(m.data).toMatchObject({ id: row.id, source: 'cbr', nominal: row.nominal });
        expect(equal(m.data.unit_rate, div(row.rate, row.nominal))).toBe(true);
      }

      for (const r of parsed.rates) latest.set(r.code, r);
    }
    const days = await database.db.selectFrom('cbr_rates').select('date').distinct().execute();
    expect(days.map((d) => d.date).sort()).toEqual(fixtures.map((f) => f.date));
  });

  it('a poll that returns the stored date with the same values publishes nothing and touches no row', async () => {
    const last = fixtures.at(-1)!;
    serve(last.path);
    const before = await currencyRows();
    const eventsBefore = rates.messages.length;
    const currencyEventsBefore = currencies.messages.length;
    expect(await poller.pollNow()).toMatchObject({ ok: true });
    await rates.settle(nats);
    expect(rates.messages.length).toBe(eventsBefore);
    const after = await currencyRows();
    for (const [code, row] of after) expect(row.updated_at).toEqual(before.get(code)!.updated_at);
    const ours = currencies.messages
      .slice(currencyEventsBefore)
      .filter((m) => after.get(m.data.code)?.id === m.data.id && equal(after.get(m.data.code)!.rate, m.data.rate));
    expect(ours).toEqual([]);
  });

  it('records the success in feed_status', async () => {
    const status = await database.db
      .selectFrom('feed_status')
      .selectAll()
      .where('source', '=', 'cbr')
      .executeTakeFirst();
    expect(status).toMatchObject({ consecutive_failures: 0, interval_ms: 60_000 });
    expect(status?.last_success_at).toBeInstanceOf(Date);
  });
});

describe('past days (date_req)', () => {
  it('asks with date_req=dd/mm/yyyy and stores the weekend day as resolving to its effective date', async () => {
    replay.reset();
    const result = await fetchCbrDay(deps, '2021-03-28'); // a Sunday: Saturday's rates apply
    expect(result).toMatchObject({ requested: '2021-03-28', effective: '2021-03-27' });
    expect(replay.requests.at(-1)?.url).toBe('/scripts/XML_daily.asp?date_req=28/03/2021');
    const day = await database.db
      .selectFrom('cbr_days')
      .selectAll()
      .where('requested', '=', '2021-03-28')
      .executeTakeFirst();
    expect(day?.effective).toBe('2021-03-27');
  });

  it('a past day does not overwrite currencies (the newest date rules them)', async () => {
    const before = await currencyRows();
    const result = await fetchCbrDay(deps, '2015-06-01');
    expect(result.effective).toBe('2013-09-26');
    const after = await currencyRows();
    for (const [code, row] of after) {
      expect(row.rate).toBe(before.get(code)!.rate);
      expect(row.updated_at).toEqual(before.get(code)!.updated_at);
    }
  });

  it('a day before any published rates resolves to null and stores nothing', async () => {
    const result = await fetchCbrDay(deps, '1999-01-04');
    expect(result.effective).toBeNull();
    const day = await database.db
      .selectFrom('cbr_days')
      .selectAll()
      .where('requested', '=', '1999-01-04')
      .executeTakeFirst();
    expect(day).toBeUndefined();
  });

  it('answers rates.cbr.fetch-day requests over NATS (and refuses a bad body)', async () => {
    const subject = `test.fetch-day.${randomUUID()}`;
    const server = serveCbrFetchDay({ ...deps, log: testLog }, subject);
    try {
      const ok = cbrFetchDayReply.parse(
        (await nats.request(subject, JSON.stringify({ date: '2022-03-13' }), { timeout: 10_000 })).json(),
      );
      expect(ok).toEqual({ ok: true, requested: '2022-03-13', effective: '2022-02-04' });
      const stored = await database.db
        .selectFrom('cbr_days')
        .selectAll()
        .where('requested', '=', '2022-03-13')
        .executeTakeFirst();
      expect(stored?.effective).toBe('2022-02-04');
      const bad = cbrFetchDayReply.parse(
        (await nats.request(subject, JSON.stringify({ date: '13.03.2022' }), { timeout: 10_000 })).json(),
      );
      expect(bad).toMatchObject({ ok: false });
      const garbage = cbrFetchDayReply.parse((await nats.request(subject, 'not json', { timeout: 10_000 })).json());
      expect(garbage).toMatchObject({ ok: false, error: 'request is not JSON' });
    } finally {
      await server.stop();
    }
  });
});
