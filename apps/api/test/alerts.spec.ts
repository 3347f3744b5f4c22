// Rate alerts over REST: the lifecycle, what a symbol must be to be followed, the per-account active
// limit, who may see an alert, the judgement at creation, and test firings with their delivery states.
import { SUBJECTS, type AlertDto, type AlertEventDto, type AlertTriggeredEvent } from '@ratewire/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestUser } from './harness.ts';
import { persistBinanceSnapshot, upsertBinanceSymbols } from '@ratewire/db';

import { insertCbrDay, listen, startRestApi, type RestEnv } from './rest-support.ts';

let t: RestEnv;
const PRICE_AT = new Date('2026-12-05T10:00:00.000Z');

type Problem = { code: string; errors?: { path: string; message: string }[] };

beforeAll(async () => {
  t = await startRestApi({ ALERTS_MAX_ACTIVE_PER_USER: '3', API_KEY_RATE_LIMIT: '100000' });
  // as the feed writes them: the symbol list, then a snapshot (the latest prices and their history)
  await upsertBinanceSymbols(
    t.database.db,
    ['BTCUSDT', 'ETHUSDT', 'HALTUSDT', 'NEWUSDT'].map((symbol) => ({
      symbol,
      baseAsset: symbol.slice(0, -4),
      quoteAsset: 'USDT',
      status: symbol === 'HALTUSDT' ? 'HALT' : 'TRADING',
    })),
  );
  await persistBinanceSnapshot(t.database.db, {
    symbols: ['BTCUSDT', 'ETHUSDT', 'HALTUSDT'],
    prices: ['65000.5', '3000', '1.5'],
    observedAt: PRICE_AT,
  });
  // ETHUSDT's history reaches back a day (2800 then: +7.14% since); BTCUSDT's only to PRICE_AT
  await t.database.db
    .insertInto('binance_price_history')
    .values({ symbol: 'ETHUSDT', price: '2800', observed_at: new Date(PRICE_AT.getTime() - 86_400_000) })
    .execute();
  await insertCbrDay(t.database.db, '2026-12-04', [{ code: 'USD', nominal: 1, value: '79.5' }]);
  await insertCbrDay(t.database.db, '2026-12-05', [{ code: 'USD', nominal: 1, value: '80.25' }]);
});
afterAll(() => t?.close());

const above = (level: string) => ({ type: 'above', level });
const body = (extra: Record<string, unknown> = {}) => ({
  source: 'binance',
  symbol: 'BTCUSDT',
  condition: above('70000'),
  channels: ['ws'],
  ...extra,
});

async function create(user: TestUser, extra: Record<string, unknown> = {}) {
  const res = await t.request<AlertDto>('POST', '/api/v1/alerts', { headers: user.auth, body: body(extra) });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function refused(user: TestUser, extra: Record<string, unknown>) {
  const res = await t.request<Problem>('POST', '/api/v1/alerts', { headers: user.auth, body: body(extra) });
  expect(res.status, res.text).toBe(422);
  return res.body;
}

const paths = (p: Problem) => (p.errors ?? []).map((e) => e.path);

describe('POST|GET|PATCH|DELETE /api/v1/alerts', () => {
  it('creates an alert, reads it, lists it, changes it and deletes it', async () => {
    const user = await t.user();
    const res = await t.request<AlertDto>('POST', '/api/v1/alerts', {
      headers: user.auth,
      body: body({ symbol: ' btcusdt ', condition: { type: 'above', level: 70000.5 }, rearm_pct: '1.50' }),
    });
    expect(res.status, res.text).toBe(201);
    const alert = res.body;
    expect(res.headers.get('location')).toBe(`/api/v1/alerts/${alert.id}`);
    expect(alert).toMatchObject({
      user_id: user.id,
      source: 'binance',
      symbol: 'BTCUSDT',
      condition: { type: 'above', level: '70000.5' },
      frequency: 'once',
      cooldown_seconds: 0,
      rearm_pct: '1.5',
      expires_at: null,
      channels: ['ws'],
      callback_url: null,
      status: 'active',
      armed: true,
      last_fired_at: null,
      fired_count: 0,
    });
    expect(Date.parse(alert.created_at)).not.toBeNaN();

    const got = await t.request<AlertDto>('GET', `/api/v1/alerts/${alert.id}`, { headers: user.auth });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(alert);

    const list = await t.request<{ items: AlertDto[]; total: number }>('GET', '/api/v1/alerts', {
      headers: user.auth,
    });
    expect(list.body).toMatchObject({ total: 1, limit: 100, offset: 0 });
    expect(list.body.items.map((a) => a.id)).toEqual([alert.id]);

    const pct = await t.request<AlertDto>('PATCH', `/api/v1/alerts/${alert.id}`, {
      headers: user.auth,
      body: { condition: { type: 'pct_change', window: '1h', threshold_pct: '2.50' }, status: 'paused' },
    });
    expect(pct.status, pct.text).toBe(200);
    expect(pct.body).toMatchObject({
      condition: { type: 'pct_change', window: '1h', threshold_pct: '2.5', direction: 'both' },
      status: 'paused',
    });
    const paused = await t.request<{ items: AlertDto[] }>('GET', '/api/v1/alerts?status=active', {
      headers: user.auth,
    });
    expect(paused.body.items).toEqual([]);

    const gone = await t.request('DELETE', `/api/v1/alerts/${alert.id}`, { headers: user.auth });
    expect(gone.status).toBe(204);
    expect((await t.request('GET', `/api/v1/alerts/${alert.id}`, { headers: user.auth })).status).toBe(404);
    expect((await t.request('DELETE', `/api/v1/alerts/${alert.id}`, { headers: user.auth })).status).toBe(404);
  });

  it('creates a CBR pct_change alert with window 24h and keeps the direction', async () => {
    const user = await t.user();
    const alert = await create(user, {
      source: 'cbr',
      symbol: 'usd',
      condition: { type: 'pct_change', window: '24h', threshold_pct: 1, direction: 'down' },
      frequency: 'every_time',
      cooldown_seconds: 600,
    });
    expect(alert).toMatchObject({
      source: 'cbr',
      symbol: 'USD',
      condition: { type: 'pct_change', window: '24h', threshold_pct: '1', direction: 'down' },
      frequency: 'every_time',
      cooldown_seconds: 600,
      status: 'active',
    });
  });

  it('lists as CSV with a header row and a row per alert', async () => {
    const user = await t.user();
    const a = await create(user);
    const res = await t.request('GET', '/api/v1/alerts?format=csv', { headers: user.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = res.text.trim().split(/\r?\n/);
    expect(lines[0]).toBe(
      'id,user_id,source,symbol,condition,frequency,cooldown_seconds,rearm_pct,expires_at,channels,callback_url,' +
        'status,armed,last_fired_at,fired_count,created_at,updated_at',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(a.id);
    expect(lines[1]).toContain('BTCUSDT');
  });
});

describe('validation', () => {
  it('refuses a Binance symbol that is not listed, or does not trade, with unknown_symbol on body.symbol', async () => {
    const user = await t.user();
    const unknown = await refused(user, { symbol: 'NOPEUSDT' });
    expect(unknown.code).toBe('unknown_symbol');
    expect(unknown.errors).toEqual([{ path: 'body.symbol', message: 'unknown Binance symbol NOPEUSDT' }]);
    const halted = await refused(user, { symbol: 'HALTUSDT' });
    expect(halted.code).toBe('unknown_symbol');
    expect(paths(halted)).toEqual(['body.symbol']);
    expect(halted.errors?.[0]?.message).toContain('HALT');
  });

  it('refuses a CBR code CBR does not publish', async () => {
    const user = await t.user();
    const res = await refused(user, { source: 'cbr', symbol: 'JPY', condition: above('1') });
    expect(res.code).toBe('unknown_symbol');
    expect(paths(res)).toEqual(['body.symbol']);
    // RUB is the base, never a published rate
    expect((await refused(user, { source: 'cbr', symbol: 'RUB', condition: above('1') })).code).toBe('unknown_symbol');
  });

  it('refuses levels out of range or not above zero', async () => {
    const user = await t.user();
    for (const level of ['1e400', -1, '0', 'abc']) {
      const res = await refused(user, { condition: above(level as string) });
      expect(res.code, String(level)).toBe('validation_failed');
      expect(paths(res), String(level)).toContain('body.condition.level');
    }
  });

  it('refuses the fields that do not fit together, and an expiry in the past', async () => {
    const user = await t.user();
    expect(paths(await refused(user, { channels: ['ws', 'callback'] }))).toEqual(['body.callback_url']);
    expect(paths(await refused(user, { callback_url: 'https://example.com/hook' }))).toEqual(['body.channels']);
    const cbr1h = await refused(user, {
      source: 'cbr',
      symbol: 'USD',
      condition: { type: 'pct_change', window: '1h', threshold_pct: '1' },
    });
    expect(paths(cbr1h)).toEqual(['body.condition.window']);
    expect(paths(await refused(user, { expires_at: '2020-01-01T00:00:00Z' }))).toEqual(['body.expires_at']);
    expect(paths(await refused(user, { channels: ['ws', 'ws'] }))).toEqual(['body.channels']);
  });

  it('resumes an expired alert only with a later expires_at (or none)', async () => {
    const user = await t.user();
    const a = await create(user, { expires_at: '2999-01-01T00:00:00Z' });
    await t.database.db
      .updateTable('alerts')
      .set({ status: 'expired', expires_at: new Date('2026-01-01T00:00:00Z') })
      .where('id', '=', a.id)
      .execute();
    const refusedResume = await t.request<Problem>('PATCH', `/api/v1/alerts/${a.id}`, {
      headers: user.auth,
      body: { status: 'active' },
    });
    expect(refusedResume.status).toBe(422);
    expect(paths(refusedResume.body)).toEqual(['body.expires_at']);
    const resumed = await t.request<AlertDto>('PATCH', `/api/v1/alerts/${a.id}`, {
      headers: user.auth,
      body: { status: 'active', expires_at: null },
    });
    expect(resumed.body).toMatchObject({ status: 'active', expires_at: null });
  });

  it('checks the whole alert again after a PATCH', async () => {
    const user = await t.user();
    const cbr = await create(user, { source: 'cbr', symbol: 'USD', condition: above('100') });
    const patch = (id: string, b: unknown) =>
      t.request<Problem>('PATCH', `/api/v1/alerts/${id}`, { headers: user.auth, body: b });
    const noUrl = await patch(cbr.id, { channels: ['ws', 'callback'] });
    expect(noUrl.status).toBe(422);
    expect(paths(noUrl.body)).toEqual(['body.callback_url']);
    const window = await patch(cbr.id, { condition: { type: 'pct_change', window: '1h', threshold_pct: '1' } });
    expect(paths(window.body)).toEqual(['body.condition.window']);
    expect((await patch(cbr.id, {})).status).toBe(422);

    const withHook = await patch(cbr.id, { channels: ['callback'], callback_url: 'https://example.com/hook' });
    expect(withHook.status).toBe(200);
    // dropping the channel while the address stays is refused: the address goes with it
    expect(paths((await patch(cbr.id, { channels: ['ws'] })).body)).toEqual(['body.channels']);
    const back = await patch(cbr.id, { channels: ['ws'], callback_url: null });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ channels: ['ws'], callback_url: null });
  });
});

describe('ALERTS_MAX_ACTIVE_PER_USER', () => {
  it('refuses the active alert past the limit with 409 alert_limit, and a resume past it too', async () => {
    const user = await t.user();
    const [first] = [await create(user), await create(user), await create(user)];
    const over = await t.request<Problem>('POST', '/api/v1/alerts', { headers: user.auth, body: body() });
    expect(over.status).toBe(409);
    expect(over.body.code).toBe('alert_limit');

    // another account has its own allowance
    await create(await t.user());

    const pause = await t.request<AlertDto>('PATCH', `/api/v1/alerts/${first.id}`, {
      headers: user.auth,
      body: { status: 'paused' },
    });
    expect(pause.body.status).toBe('paused');
    await create(user);
    const resume = await t.request<Problem>('PATCH', `/api/v1/alerts/${first.id}`, {
      headers: user.auth,
      body: { status: 'active' },
    });
    expect(resume.status).toBe(409);
    expect(resume.body.code).toBe('alert_limit');
    const list = await t.request<{ total: number }>('GET', '/api/v1/alerts?status=active', { headers: user.auth });
    expect(list.body.total).toBe(3);
  });
});

describe('who may see an alert', () => {
  it("answers 404 for another account's alert, on every route, and leaves it as it was", async () => {
    const [owner, other] = [await t.user(), await t.user()];
    const a = await create(owner);
    const id = a.id;
    for (const [method, path, b] of [
      ['GET', `/api/v1/alerts/${id}`, undefined],
      ['PATCH', `/api/v1/alerts/${id}`, { status: 'paused' }],
      ['DELETE', `/api/v1/alerts/${id}`, undefined],
      ['POST', `/api/v1/alerts/${id}/test`, undefined],
      ['GET', `/api/v1/alerts/${id}/events`, undefined],
    ] as const) {
      const res = await t.request<Problem>(method, path, { headers: other.auth, body: b });
      expect({ status: res.status, code: res.body.code }, `${method} ${path}`).toEqual({
        status: 404,
        code: 'not_found',
      });
    }
    const list = await t.request<{ items: AlertDto[] }>('GET', '/api/v1/alerts', { headers: other.auth });
    expect(list.body.items).toEqual([]);
    const mine = await t.request<AlertDto>('GET', `/api/v1/alerts/${id}`, { headers: owner.auth });
    expect(mine.body).toMatchObject({ status: 'active', fired_count: 0 });
    const events = await t.request<{ items: unknown[] }>('GET', `/api/v1/alerts/${id}/events`, {
      headers: owner.auth,
    });
    expect(events.body.items).toEqual([]);
  });

  it('lets an admin list, read and change every alert', async () => {
    const [one, two, admin] = [await t.user(), await t.user(), await t.user('admin')];
    const a = await create(one);
    const b = await create(two);
    const list = await t.request<{ items: AlertDto[]; total: number }>('GET', '/api/v1/alerts?limit=1000', {
      headers: admin.auth,
    });
    const ids = list.body.items.map((x) => x.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(new Set(list.body.items.map((x) => x.user_id)).size).toBeGreaterThan(1);
    expect((await t.request('GET', `/api/v1/alerts/${a.id}`, { headers: admin.auth })).status).toBe(200);
    const paused = await t.request<AlertDto>('PATCH', `/api/v1/alerts/${b.id}`, {
      headers: admin.auth,
      body: { status: 'paused' },
    });
    expect(paused.body).toMatchObject({ status: 'paused', user_id: two.id });
  });

  it('works with an API key holding the alerts scope (as its owner) and refuses one without it', async () => {
    const user = await t.user();
    const key = async (scopes: string[]) => {
      const res = await t.request<{ key: string }>('POST', '/api/v1/api-keys', {
        headers: user.auth,
        body: { name: scopes.join('+'), scopes },
      });
      expect(res.status).toBe(201);
      return { 'x-api-key': res.body.key };
    };
    const alerts = await key(['alerts']);
    const read = await key(['read', 'jobs']);
    const created = await t.request<AlertDto>('POST', '/api/v1/alerts', { headers: alerts, body: body() });
    expect(created.status, created.text).toBe(201);
    expect(created.body.user_id).toBe(user.id);
    const list = await t.request<{ items: AlertDto[] }>('GET', '/api/v1/alerts', { headers: alerts });
    expect(list.body.items.map((a) => a.id)).toEqual([created.body.id]);
    for (const [method, path] of [
      ['GET', '/api/v1/alerts'],
      ['POST', '/api/v1/alerts'],
      ['GET', `/api/v1/alerts/${created.body.id}`],
      ['POST', `/api/v1/alerts/${created.body.id}/test`],
    ] as const) {
      const res = await t.request<Problem>(method, path, {
        headers: read,
        ...(method === 'POST' ? { body: body() } : {}),
      });
      expect({ status: res.status, code: res.body.code }, `${method} ${path}`).toEqual({
        status: 403,
        code: 'insufficient_scope',
      });
    }
  });
});

describe('the judgement at creation', () => {
  it('creates an above alert whose level the price already exceeds as triggered, with its firing', async () => {
    const user = await t.user();
    const announced = await listen<AlertTriggeredEvent>(t.deps.nats, SUBJECTS.alertsTriggered);
    const a = await create(user, { condition: above('65000') });
    expect(a).toMatchObject({ status: 'triggered', fired_count: 1, last_fired_at: PRICE_AT.toISOString() });
    const message = await announced.next;
    expect(message.data).toMatchObject({
      type: 'alert.triggered',
      alert_id: a.id,
      user_id: user.id,
      test: false,
      symbol: 'BTCUSDT',
      condition: { type: 'above', level: '65000' },
      observed: { value: '65000.5', previous: null, at: PRICE_AT.toISOString() },
    });
    const events = await t.request<{ items: AlertEventDto[] }>('GET', `/api/v1/alerts/${a.id}/events`, {
      headers: user.auth,
    });
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0]).toMatchObject({
      id: message.data.event_id,
      alert_id: a.id,
      test: false,
      observation: 'binance:BTCUSDT@2026-12-05T10:00:00.000Z',
      observed: { value: '65000.5', previous: null, at: PRICE_AT.toISOString() },
      delivery: { nats: { status: 'sent' }, ws: { status: 'sent' } },
    });
    expect(events.body.items[0]!.delivery.nats.at).not.toBeNull();
  });

  it('judges a CBR alert against the newest published rate, observed at its effective date', async () => {
    const user = await t.user();
    const a = await create(user, { source: 'cbr', symbol: 'USD', condition: { type: 'below', level: '81' } });
    expect(a.status).toBe('triggered');
    const events = await t.request<{ items: AlertEventDto[] }>('GET', `/api/v1/alerts/${a.id}/events`, {
      headers: user.auth,
    });
    expect(events.body.items[0]).toMatchObject({
      observation: 'cbr:USD@2026-12-05',
      observed: { value: '80.25', at: '2026-12-05T00:00:00.000Z' },
    });
  });

  it('judges a pct_change alert against the stored price a window before', async () => {
    const user = await t.user();
    const up = await create(user, {
      symbol: 'ETHUSDT',
      condition: { type: 'pct_change', window: '24h', threshold_pct: '7', direction: 'up' },
    });
    expect(up.status).toBe('triggered');
    const events = await t.request<{ items: AlertEventDto[] }>('GET', `/api/v1/alerts/${up.id}/events`, {
      headers: user.auth,
    });
    expect(events.body.items[0]?.observed).toEqual({
      value: '3000',
      previous: '2800',
      change_pct: '7.1429',
      at: PRICE_AT.toISOString(),
    });
    const down = await create(await t.user(), {
      symbol: 'ETHUSDT',
      condition: { type: 'pct_change', window: '24h', threshold_pct: '7', direction: 'down' },
    });
    expect(down.status).toBe('active');
    const tooFar = await create(await t.user(), {
      symbol: 'ETHUSDT',
      condition: { type: 'pct_change', window: '24h', threshold_pct: '7.2' },
    });
    expect(tooFar.status).toBe('active');
  });

  it('leaves active an alert whose condition does not hold, and a crossing (no previous observation)', async () => {
    for (const condition of [
      above('65000.5'),
      { type: 'below', level: '65000.5' },
      { type: 'crosses_above', level: '60000' },
      { type: 'pct_change', window: '1h', threshold_pct: '0.1' },
    ]) {
      const a = await create(await t.user(), { condition });
      expect({ status: a.status, fired: a.fired_count }, JSON.stringify(condition)).toEqual({
        status: 'active',
        fired: 0,
      });
    }
  });

  it('judges a level alert again when a PATCH restarts it', async () => {
    const user = await t.user();
    const a = await create(user, { condition: above('70000') });
    expect(a.status).toBe('active');
    const lowered = await t.request<AlertDto>('PATCH', `/api/v1/alerts/${a.id}`, {
      headers: user.auth,
      body: { condition: above('60000') },
    });
    expect(lowered.body).toMatchObject({ status: 'triggered', fired_count: 1 });
    // resumed at the same observation: it fired on that one already
    const resumed = await t.request<AlertDto>('PATCH', `/api/v1/alerts/${a.id}`, {
      headers: user.auth,
      body: { status: 'active' },
    });
    expect(resumed.body).toMatchObject({ status: 'active', fired_count: 1 });
  });
});

describe('POST /api/v1/alerts/{id}/test and GET /api/v1/alerts/{id}/events', () => {
  it('fires a test through every channel, leaves the alert as it was, and lists each delivery state', async () => {
    const user = await t.user();
    const a = await create(user, {
      condition: above('70000'),
      channels: ['ws', 'callback', 'email'],
      callback_url: 'http://127.0.0.1:9/alerts',
    });
    const announced = await listen<AlertTriggeredEvent>(t.deps.nats, SUBJECTS.alertsTriggered);
    const res = await t.request<{ event_id: string; alert_id: string }>('POST', `/api/v1/alerts/${a.id}/test`, {
      headers: user.auth,
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body.alert_id).toBe(a.id);
    const message = await announced.next;
    expect(message.data).toMatchObject({
      event_id: res.body.event_id,
      test: true,
      observed: { value: '65000.5', previous: null },
      channels: ['ws', 'callback', 'email'],
    });

    const events = await t.request<{ items: AlertEventDto[] }>('GET', `/api/v1/alerts/${a.id}/events`, {
      headers: user.auth,
    });
    expect(events.body.items).toHaveLength(1);
    const event = events.body.items[0]!;
    expect(event).toMatchObject({ id: res.body.event_id, test: true, observed: { value: '65000.5' } });
    expect(event.observation).toMatch(/^test:/);
    expect(event.delivery).toMatchObject({
      nats: { status: 'sent' },
      ws: { status: 'sent' },
      callback: { status: 'pending', attempts: 0, at: null },
      email: { status: 'skipped', error: 'address not confirmed' },
    });
    const after = await t.request<AlertDto>('GET', `/api/v1/alerts/${a.id}`, { headers: user.auth });
    expect(after.body).toMatchObject({ status: 'active', fired_count: 0, last_fired_at: null });
  });

  it("queues the mail of a confirmed account's test firing, and lists firings newest first", async () => {
    const user = await t.user();
    await t.database.db
      .updateTable('users')
      .set({ email_confirmed_at: new Date() })
      .where('id', '=', user.id)
      .execute();
    const a = await create(user, { channels: ['email'] });
    const fire = async () =>
      (await t.request<{ event_id: string }>('POST', `/api/v1/alerts/${a.id}/test`, { headers: user.auth })).body
        .event_id;
    const first = await fire();
    const second = await fire();
    const events = await t.request<{ items: AlertEventDto[] }>('GET', `/api/v1/alerts/${a.id}/events`, {
      headers: user.auth,
    });
    expect(events.body.items.map((e) => e.id)).toEqual([second, first]);
    expect(events.body.items[0]!.delivery).toEqual({
      nats: expect.objectContaining({ status: 'sent' }),
      email: expect.objectContaining({ status: 'pending', attempts: 0 }),
    });
    const page = await t.request<{ items: AlertEventDto[]; limit: number; offset: number }>(
      'GET',
      `/api/v1/alerts/${a.id}/events?limit=1&offset=1`,
      { headers: user.auth },
    );
    expect(page.body).toMatchObject({ limit: 1, offset: 1 });
    expect(page.body.items.map((e) => e.id)).toEqual([first]);
    const ndjson = await t.request('GET', `/api/v1/alerts/${a.id}/events`, {
      headers: { ...user.auth, accept: 'application/x-ndjson' },
    });
    expect(
      ndjson.text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual([second, first]);
  });

  it('tests a paused alert at its level when no price is stored, and refuses a pct_change alert then', async () => {
    const user = await t.user();
    // NEWUSDT is listed, with no price stored yet
    const level = await create(user, { symbol: 'NEWUSDT', condition: above('5.25') });
    await t.request('PATCH', `/api/v1/alerts/${level.id}`, { headers: user.auth, body: { status: 'paused' } });
    const res = await t.request<{ event_id: string }>('POST', `/api/v1/alerts/${level.id}/test`, {
      headers: user.auth,
    });
    expect(res.status).toBe(202);
    const events = await t.request<{ items: AlertEventDto[] }>('GET', `/api/v1/alerts/${level.id}/events`, {
      headers: user.auth,
    });
    expect(events.body.items[0]).toMatchObject({ id: res.body.event_id, observed: { value: '5.25' } });
    const pct = await create(user, {
      symbol: 'NEWUSDT',
      condition: { type: 'pct_change', window: '24h', threshold_pct: '5' },
    });
    const none = await t.request<Problem>('POST', `/api/v1/alerts/${pct.id}/test`, { headers: user.auth });
    expect(none.status).toBe(409);
    expect(none.body.code).toBe('no_observation');
  });
});
