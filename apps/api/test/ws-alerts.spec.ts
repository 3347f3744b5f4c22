// alerts:<user_id> on /ws, end to end: a firing announced by the api on NATS reaches that account's
// channel through the notifier (for alerts naming `ws`), and only that account and admins may follow it.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sessionToken } from './harness.ts';
import { upsertBinancePrices } from './rest-support.ts';
import { startWsStack, type WsClient, type WsStack } from './ws-harness.ts';

let stack: WsStack;
let base: string;
const people: Record<'owner' | 'other' | 'admin', { id: string; token: string }> = {
  owner: { id: '', token: '' },
  other: { id: '', token: '' },
  admin: { id: '', token: '' },
};

beforeAll(async () => {
  stack = await startWsStack();
  const api = stack.apis[0]!;
  base = api.url;
  const db = stack.database.db;
  const rows = await db
    .insertInto('users')
    .values([
      { email: `owner-${randomUUID()}@alerts.test`, password_hash: 'x' },
      { email: `other-${randomUUID()}@alerts.test`, password_hash: 'x' },
      { email: `admin-${randomUUID()}@alerts.test`, password_hash: 'x', role: 'admin' },
    ])
    .returning('id')
    .execute();
  const names = ['owner', 'other', 'admin'] as const;
  for (const [i, name] of names.entries()) {
    const id = rows[i]!.id;
    people[name] = { id, token: await sessionToken(db, id, api.deps.settings) };
  }
  await upsertBinancePrices(db, { BTCUSDT: '65000.5' });
}, 60_000);
afterAll(() => stack?.close());

async function rest<T>(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function signedIn(who: keyof typeof people): Promise<WsClient> {
  const c = await stack.open();
  c.send({ op: 'auth', token: people[who].token });
  expect(await c.waitFor((f) => f.type === 'authenticated' || f.type === 'error')).toEqual({
    type: 'authenticated',
    user_id: people[who].id,
  });
  return c;
}

async function alertOf(channels: string[]): Promise<string> {
  const res = await rest<{ id: string }>('POST', '/api/v1/alerts', people.owner.token, {
    source: 'binance',
    symbol: 'BTCUSDT',
    condition: { type: 'above', level: '70000' },
    channels,
    ...(channels.includes('callback') ? { callback_url: 'http://127.0.0.1:9/alerts' } : {}),
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

const fire = async (alertId: string) => {
  const res = await rest<{ event_id: string }>('POST', `/api/v1/alerts/${alertId}/test`, people.owner.token);
  expect(res.status).toBe(202);
  return res.body.event_id;
};

describe('/ws alerts:<user_id>', () => {
  it('is open to that account and to admins; others and anonymous sockets get forbidden', async () => {
    const channel = `alerts:${people.owner.id}`;
    expect(await (await signedIn('owner')).subscribe(channel)).toEqual({ type: 'subscribed', channel });
    expect(await (await signedIn('admin')).subscribe(channel)).toEqual({ type: 'subscribed', channel });
    expect(await (await signedIn('other')).subscribe(channel)).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await (await stack.open()).subscribe(channel)).toMatchObject({ type: 'error', code: 'forbidden' });
    // a channel of an account that does not exist is no one's but an admin's
    const nobody = `alerts:${randomUUID()}`;
    expect(await (await signedIn('owner')).subscribe(nobody)).toMatchObject({ type: 'error', code: 'forbidden' });
  });

  it("delivers a test firing's alerts.triggered frame to the owner and an admin, and only for alerts naming ws", async () => {
    const channel = `alerts:${people.owner.id}`;
    const owner = await signedIn('owner');
    const admin = await signedIn('admin');
    const other = await signedIn('other');
    expect(await owner.subscribe(channel)).toEqual({ type: 'subscribed', channel });
    expect(await admin.subscribe(channel)).toEqual({ type: 'subscribed', channel });
    const otherChannel = `alerts:${people.other.id}`;
    expect(await other.subscribe(otherChannel)).toEqual({ type: 'subscribed', channel: otherChannel });

    const quiet = await alertOf(['callback']);
    const loud = await alertOf(['ws']);
    const quietEvent = await fire(quiet);
    const loudEvent = await fire(loud);

    for (const c of [owner, admin]) {
      const frame = await c.waitFor((f) => f.type === 'event' && f.channel === channel);
      expect(frame).toMatchObject({
        type: 'event',
        channel,
        event: 'alerts.triggered',
        data: {
          type: 'alert.triggered',
          alert_id: loud,
          event_id: loudEvent,
          user_id: people.owner.id,
          test: true,
          symbol: 'BTCUSDT',
          observed: { value: '65000.5', previous: null },
          channels: ['ws'],
        },
      });
    }
    // the firing without ws (announced first) made no frame
    await owner.barrier();
    const sent = owner.events(channel).map((f) => (f.data as { event_id: string }).event_id);
    expect(sent).toEqual([loudEvent]);
    expect(sent).not.toContain(quietEvent);
    await other.barrier();
    expect(other.events()).toEqual([]);
  });
});
