import { randomUUID } from 'node:crypto';

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  claimUnpublishedAlertEvents,
  commitAlertTick,
  expireAlerts,
  findAlert,
  insertAlertWithinLimit,
  insertTestFiring,
  listAlertEvents,
  markAlertEventsPublished,
  updateAlert,
  type AlertObservationInput,
  type Database,
  type NewAlert,
} from '../src/index.ts';
import { scratchDatabase, type ScratchDatabase } from './scratch-database.ts';

let scratch: ScratchDatabase;
let db: Database;

beforeAll(async () => {
  scratch = await scratchDatabase('alerts', { max: 8 });
  db = scratch.db;
});
afterAll(() => scratch?.drop());

const user = async (confirmed = true) =>
  (
    await db
      .insertInto('users')
      .values({
        email: `${randomUUID()}@alerts.test`,
        password_hash: 'x',
        name: null,
        ...(confirmed ? { email_confirmed_at: new Date() } : {}),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;

type Shape = Partial<NewAlert> & Pick<NewAlert, 'condition_type'>;

/** A fresh symbol per alert keeps each case's observations its own. */
async function alert(shape: Shape, userId?: string) {
  const row = await insertAlertWithinLimit(
    db,
    {
      user_id: userId ?? (await user()),
      source: 'binance',
      symbol: `T${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`,
      level: shape.condition_type === 'pct_change' ? null : '100',
      window_seconds: null,
      threshold_pct: null,
      direction: null,
      frequency: 'once',
      cooldown_seconds: 0,
      rearm_pct: '0',
      expires_at: null,
      channels: ['ws'],
      callback_url: null,
      ...shape,
    },
    1000,
  );
  return row!;
}

let clock = Date.parse('2026-12-01T10:00:00Z');
const nextAt = (stepMs = 1000) => new Date((clock += stepMs));

/**
 * Stores `value` as the symbol's price at `at` (and `previous` just before it, when given), as a
 * poll would, and names that observation: the tick statement judges stored rates only.
 */
async function stored(
  symbol: string,
  value: string,
  previous: string | null,
  extra: Partial<AlertObservationInput> = {},
): Promise<AlertObservationInput> {
  const at = extra.at ?? nextAt();
  const rows = [{ symbol, price: value, observed_at: at }];
  if (previous !== null) rows.unshift({ symbol, price: previous, observed_at: new Date(at.getTime() - 1) });
  await db.insertInto('binance_price_history').values(rows).execute();
  return { symbol, reference1h: null, reference24h: null, ...extra, at };
}

/** One observation of the alert's symbol; the alert is the tick's only candidate. */
async function observe(
  a: { id: string; symbol: string },
  value: string,
  previous: string | null,
  extra: Partial<AlertObservationInput> = {},
) {
  const obs = await stored(a.symbol, value, previous, extra);
  return commitAlertTick(db, { source: 'binance', observations: [obs], candidates: [a.id] });
}

const fires = async (...args: Parameters<typeof observe>) => (await observe(...args)).fired.length;

describe('commitAlertTick: conditions at their edges', () => {
  it('above fires when current > level, not when equal', async () => {
    const a = await alert({ condition_type: 'above', frequency: 'every_time' });
    expect(await fires(a, '100', '99')).toBe(0);
    expect(await fires(a, '100.00000001', '100')).toBe(1);
  });

  it('a new above alert is judged at the next observation of its symbol, candidate or not', async () => {
    const a = await alert({ condition_type: 'above' });
    expect((await findAlert(db, a.id))?.waiting).toBe(true);
    const r = await commitAlertTick(db, {
      source: 'binance',
      observations: [await stored(a.symbol, '120', '119')],
      candidates: [],
    });
    expect(r.fired.map((f) => f.alert_id)).toEqual([a.id]);
  });

  it('above fires on the first observation a symbol has (previous null)', async () => {
    const a = await alert({ condition_type: 'above' });
    expect(await fires(a, '101', null)).toBe(1);
  });

  it('below fires when current < level, not when equal', async () => {
    const a = await alert({ condition_type: 'below' });
    expect(await fires(a, '100', '101')).toBe(0);
    expect(await fires(a, '99.99', '100')).toBe(1);
  });

  it('crosses_above fires when previous < level ≤ current: equal to the level counts', async () => {
    const a = await alert({ condition_type: 'crosses_above', frequency: 'every_time' });
    expect(await fires(a, '100', '99.9')).toBe(1);
  });

  it('crosses_above does not fire from the level itself (previous = level)', async () => {
    const a = await alert({ condition_type: 'crosses_above' });
    expect(await fires(a, '105', '100')).toBe(0);
  });

  it('a crossing needs a previous observation: the first one never crosses', async () => {
    const a = await alert({ condition_type: 'crosses_above' });
    expect(await fires(a, '150', null)).toBe(0);
    const b = await alert({ condition_type: 'crosses_below' });
    expect(await fires(b, '50', null)).toBe(0);
  });

  it('crosses_below fires when previous > level ≥ current', async () => {
    const a = await alert({ condition_type: 'crosses_below' });
    expect(await fires(a, '100.1', '101')).toBe(0);
    expect(await fires(a, '100', '100.1')).toBe(1);
  });

  it('levels compare exactly, beyond what a binary float tells apart', async () => {
    const a = await alert({ condition_type: 'above', level: '0.30000000000000000001' });
    // 0.3 and 0.30000000000000000001 are one double; as decimals, 0.3 is below the level
    expect(await fires(a, '0.3', '0.2')).toBe(0);
    expect(await fires(a, '0.30000000000000000002', '0.3')).toBe(1);
  });

  it('pct_change up fires at exactly the threshold against the value a window before', async () => {
    const a = await alert({ condition_type: 'pct_change', window_seconds: 3600, threshold_pct: '5', direction: 'up' });
    expect(await fires(a, '104.99', '104', { reference1h: '100' })).toBe(0);
    const r = await observe(a, '105', '104.99', { reference1h: '100' });
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]).toMatchObject({ previous_value: '100', change_pct: '5.0000', observed_value: '105' });
  });

  it('pct_change down and both take falls; up does not', async () => {
    const down = await alert({
      condition_type: 'pct_change',
      window_seconds: 86400,
      threshold_pct: '2',
      direction: 'down',
    });
    expect(await fires(down, '98', '99', { reference24h: '100' })).toBe(1);
    const both = await alert({
      condition_type: 'pct_change',
      window_seconds: 86400,
      threshold_pct: '2',
      direction: 'both',
    });
    expect(await fires(both, '98', '99', { reference24h: '100' })).toBe(1);
    const up = await alert({
      condition_type: 'pct_change',
      window_seconds: 86400,
      threshold_pct: '2',
      direction: 'up',
    });
    expect(await fires(up, '98', '99', { reference24h: '100' })).toBe(0);
  });

  it('pct_change does not fire across a gap: no stored value a window before', async () => {
    const a = await alert({
      condition_type: 'pct_change',
      window_seconds: 3600,
      threshold_pct: '1',
      direction: 'both',
    });
    expect(await fires(a, '200', '100', { reference1h: null, reference24h: '100' })).toBe(0);
  });
});

describe('commitAlertTick: frequencies, hysteresis, cooldown, expiry', () => {
  it('once: fires once, then the alert is triggered and leaves the evaluation', async () => {
    const a = await alert({ condition_type: 'above' });
    const r = await observe(a, '101', '99');
    expect(r.fired).toHaveLength(1);
    expect(r.ended).toEqual([a.id]);
    expect(await fires(a, '102', '101')).toBe(0);
    expect(await findAlert(db, a.id)).toMatchObject({ status: 'triggered', fired_count: 1 });
  });

  it('every_time re-arms only after the rate moved rearm_pct back', async () => {
    const a = await alert({ condition_type: 'crosses_above', frequency: 'every_time', rearm_pct: '1' });
    expect(await fires(a, '100.5', '99.5')).toBe(1);
    // back under the level but not 1 % under: still disarmed, so crossing again does not fire
    expect(await fires(a, '99.5', '100.5')).toBe(0);
    expect(await fires(a, '100.5', '99.5')).toBe(0);
    // 99 = 100 × (1 − 1 %): re-armed, and the next crossing fires
    expect(await fires(a, '99', '100.5')).toBe(0);
    expect((await findAlert(db, a.id))?.armed).toBe(true);
    expect(await fires(a, '101', '99')).toBe(1);
  });

  it('every_time above does not flap: no second firing while the rate stays above', async () => {
    const a = await alert({ condition_type: 'above', frequency: 'every_time' });
    expect(await fires(a, '101', '99')).toBe(1);
    expect(await fires(a, '102', '101')).toBe(0);
    expect(await fires(a, '100', '102')).toBe(0); // re-armed (rearm_pct 0: at or below the level)
    expect(await fires(a, '101', '100')).toBe(1);
  });

  it('every_time waits out cooldown_seconds, then fires if the condition still holds', async () => {
    const a = await alert({ condition_type: 'above', frequency: 'every_time', cooldown_seconds: 60 });
    expect(await fires(a, '101', '99')).toBe(1);
    expect(await fires(a, '99', '101', { at: nextAt(1000) })).toBe(0); // re-armed
    const held = await observe(a, '101', '99', { at: nextAt(1000) }); // within 60 s: waits
    expect(held.fired).toHaveLength(0);
    expect((await findAlert(db, a.id))?.waiting).toBe(true);
    // the waiting alert is a candidate by itself once the cooldown is over
    const later = await commitAlertTick(db, {
      source: 'binance',
      observations: [await stored(a.symbol, '101.5', '101', { at: nextAt(61_000) })],
      candidates: [],
    });
    expect(later.fired).toHaveLength(1);
    expect((await findAlert(db, a.id))?.waiting).toBe(false);
  });

  it('once_per_day fires at most once per UTC day while the condition holds', async () => {
    const a = await alert({ condition_type: 'above', frequency: 'once_per_day' });
    const day = Date.parse('2027-01-05T23:58:00Z');
    const at = (ms: number) => new Date(day + ms);
    expect(await fires(a, '101', '99', { at: at(0) })).toBe(1);
    expect(await fires(a, '102', '101', { at: at(60_000) })).toBe(0);
    // 00:00:30 the next UTC day: fires again, with no candidate list (it waits since the first)
    const next = await commitAlertTick(db, {
      source: 'binance',
      observations: [await stored(a.symbol, '103', '102', { at: at(150_000) })],
      candidates: [],
    });
    expect(next.fired).toHaveLength(1);
  });

  it('an alert past expires_at does not fire, and the sweep marks it expired', async () => {
    const a = await alert({ condition_type: 'above', expires_at: '2026-11-30T00:00:00Z' });
    expect(await fires(a, '101', '99')).toBe(0);
    expect(await expireAlerts(db)).toContain(a.id);
    expect((await findAlert(db, a.id))?.status).toBe('expired');
  });

  it('a paused alert does not fire; resumed, it is armed again', async () => {
    const a = await alert({ condition_type: 'above', frequency: 'every_time' });
    expect(await fires(a, '101', '99')).toBe(1);
    await updateAlert(db, a.id, { status: 'paused' }, 100);
    // not judged, and named back as no longer active, for the evaluator to drop from its index
    expect(await observe(a, '99', '101')).toMatchObject({ fired: [], judged: 0, ended: [a.id] });
    const resumed = await updateAlert(db, a.id, { status: 'active' }, 100);
    expect(resumed).toMatchObject({ status: 'active', armed: true });
  });
});

describe('commitAlertTick: stored rates only', () => {
  it('an observation no feed stored fires nothing, whatever a message claimed', async () => {
    const a = await alert({ condition_type: 'above' });
    const r = await commitAlertTick(db, {
      source: 'binance',
      observations: [{ symbol: a.symbol, reference1h: null, reference24h: null, at: nextAt() }],
      candidates: [a.id],
    });
    expect(r).toMatchObject({ fired: [], judged: 0 });
  });
});

describe('commitAlertTick: once per (alert, observation)', () => {
  it('the same tick decided twice, one after the other, fires once', async () => {
    const a = await alert({ condition_type: 'crosses_above', frequency: 'every_time' });
    const obs = await stored(a.symbol, '101', '99');
    const first = await commitAlertTick(db, { source: 'binance', observations: [obs], candidates: [a.id] });
    const again = await commitAlertTick(db, { source: 'binance', observations: [obs], candidates: [a.id] });
    expect(first.fired).toHaveLength(1);
    expect(again.fired).toHaveLength(0);
  });

  it('the same tick decided by two connections at once fires once per alert', async () => {
    const owner = await user();
    const alerts = await Promise.all(
      Array.from({ length: 50 }, () => alert({ condition_type: 'above', frequency: 'every_time' }, owner)),
    );
    const at = nextAt();
    const tick = {
      source: 'binance' as const,
      observations: await Promise.all(alerts.map((a) => stored(a.symbol, '150', '50', { at }))),
      candidates: alerts.map((a) => a.id),
    };
    const [x, y] = await Promise.all([commitAlertTick(db, tick), commitAlertTick(db, tick)]);
    expect(x.fired.length + y.fired.length).toBe(50);
    const rows = await sql<{ n: string }>`select count(*) as n from alert_events where user_id = ${owner}`.execute(db);
    expect(Number(rows.rows[0]!.n)).toBe(50);
  });

  it('an older observation than the last firing never fires', async () => {
    const a = await alert({ condition_type: 'crosses_above', frequency: 'every_time' });
    const late = nextAt();
    const early = new Date(late.getTime() - 5000);
    expect(await fires(a, '101', '99', { at: late })).toBe(1);
    expect(await fires(a, '98', '101')).toBe(0);
    // an observation from before the firing, judged late (say, a redelivered tick): no second firing
    expect(await fires(a, '101', '99', { at: early })).toBe(0);
  });
});

describe('firing deliveries', () => {
  it('queues a callback and a mail with the firing; mail only to a confirmed address', async () => {
    const confirmed = await alert({
      condition_type: 'above',
      channels: ['ws', 'callback', 'email'],
      callback_url: 'https://hooks.example/alerts',
    });
    const unconfirmed = await alert({ condition_type: 'above', channels: ['email'] }, await user(false));
    const [f] = (await observe(confirmed, '101', '99')).fired;
    const [g] = (await observe(unconfirmed, '101', '99')).fired;
    const cb = await db
      .selectFrom('callback_deliveries')
      .selectAll()
      .where('alert_event_id', '=', f!.event_id)
      .execute();
    expect(cb).toMatchObject([
      { url: 'https://hooks.example/alerts', webhook_id: `msg_${f!.event_id}`, status: 'pending' },
    ]);
    const mail = await db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('alert_event_id', 'in', [f!.event_id, g!.event_id])
      .execute();
    expect(mail.map((m) => m.alert_event_id)).toEqual([f!.event_id]);
    const [listed] = await listAlertEvents(db, { alertId: confirmed.id, limit: 10, offset: 0 });
    expect(listed).toMatchObject({
      event_id: f!.event_id,
      callback: { status: 'pending', attempts: 0 },
      email: { status: 'pending' },
    });
  });

  it('a test firing is marked test and leaves the alert as it was', async () => {
    const a = await alert({ condition_type: 'above', channels: ['ws'] });
    const t = await insertTestFiring(db, a.id, { value: '100', previous: null });
    expect(t).toMatchObject({ test: true, alert_id: a.id, observed_value: '100' });
    expect(await findAlert(db, a.id)).toMatchObject({ status: 'active', fired_count: 0 });
  });

  it('firings not marked published are claimed by the sweep once, then not again', async () => {
    const a = await alert({ condition_type: 'above' });
    const [f] = (await observe(a, '101', '99')).fired;
    const claimed = await claimUnpublishedAlertEvents(db, 0, 1000);
    expect(claimed.map((c) => c.event_id)).toContain(f!.event_id);
    expect((await claimUnpublishedAlertEvents(db, 0, 1000)).map((c) => c.event_id)).not.toContain(f!.event_id);
    await markAlertEventsPublished(db, [f!.event_id]);
  });
});

describe('insertAlertWithinLimit', () => {
  it('refuses an alert past the owner’s active limit, even when created at once', async () => {
    const owner = await user();
    const shape = (i: number): NewAlert => ({
      user_id: owner,
      source: 'binance',
      symbol: 'BTCUSDT',
      condition_type: 'above',
      level: String(100 + i),
      window_seconds: null,
      threshold_pct: null,
      direction: null,
      frequency: 'once',
      cooldown_seconds: 0,
      rearm_pct: '0',
      expires_at: null,
      channels: ['ws'],
      callback_url: null,
    });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => insertAlertWithinLimit(db, shape(i), 5)));
    expect(results.filter(Boolean)).toHaveLength(5);
  });
});
