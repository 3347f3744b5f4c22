// Operational limits of the api, end to end over a Redis and a NATS that require credentials (the
// api replicas' and the notifier's connections all log in with them): sockets per client address,
// the /metrics token, and inbound currencies.updates held to the decimal limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NatsConnection } from '@ratewire/runtime';
import { createTestDatabase, type TestDatabase } from '@ratewire/testkit';

import {
  WsClient,
  natsClient,
  startNotifier,
  startPrivateNats,
  startPrivateRedis,
  startWsApi,
  type PrivateServer,
  type WsApi,
} from './ws-harness.ts';

const METRICS_TOKEN = 'metrics-token-for-tests-4c1f9b';

let database: TestDatabase;
let redisServer: PrivateServer;
let natsServer: PrivateServer;
let direct: WsApi;
let proxied: WsApi;
let notifier: Awaited<ReturnType<typeof startNotifier>>;
let nc: NatsConnection;
const clients: WsClient[] = [];

beforeAll(async () => {
  // one at a time, so that whatever started is closed by afterAll even when a later start fails
  redisServer = await startPrivateRedis({ auth: { user: 'ratewire', password: 'ws-limits-redis-secret' } });
  natsServer = await startPrivateNats({ auth: { user: 'ratewire', password: 'ws-limits-nats-secret' } });
  database = await createTestDatabase();
  notifier = await startNotifier(redisServer.authUrl, natsServer.authUrl);
  [direct, proxied] = await Promise.all([
    startWsApi(database, redisServer.authUrl, natsServer.authUrl, {
      WS_MAX_CONNECTIONS_PER_IP: '3',
      METRICS_TOKEN,
    }),
    startWsApi(database, redisServer.authUrl, natsServer.authUrl, {
      WS_MAX_CONNECTIONS_PER_IP: '2',
      TRUST_PROXY: 'true',
    }),
  ]);
  nc = await natsClient(natsServer.authUrl);
});
afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await direct?.close();
  await proxied?.close();
  await notifier?.stop();
  await nc?.drain();
  await redisServer?.close();
  await natsServer?.close();
  await database?.drop();
});

const forwardedFor = (address: string) => ({ headers: { 'x-forwarded-for': `${address}, 10.0.0.1` } });

async function open(api: WsApi, options?: ConstructorParameters<typeof WsClient>[1]): Promise<WsClient> {
  const c = await WsClient.open(api.wsUrl, options);
  clients.push(c);
  return c;
}

/** A socket the api accepts and then closes at once. */
async function refused(api: WsApi, options?: ConstructorParameters<typeof WsClient>[1]) {
  const c = new WsClient(api.wsUrl, options);
  clients.push(c);
  const closed = await c.closed;
  return { ...closed, frames: c.frames };
}

describe('/ws sockets per client address (WS_MAX_CONNECTIONS_PER_IP)', () => {
  it('closes the socket past the limit with 1008, and takes a new one once a place is free', async () => {
    // without TRUST_PROXY, X-Forwarded-For is not the address: changing it does not get past the limit
    const held = [
      await open(direct, forwardedFor('198.51.100.1')),
      await open(direct, forwardedFor('198.51.100.2')),
      await open(direct),
    ];
    const past = await refused(direct, forwardedFor('198.51.100.3'));
    expect(past).toMatchObject({ code: 1008, reason: 'too many connections from this address', frames: [] });
    held[0]!.close();
    await held[0]!.closed;
    const again = await open(direct);
    expect(again.frames[0]).toMatchObject({ type: 'welcome' });
    await again.subscribe('currencies');
  });

  it('counts by the X-Forwarded-For client with TRUST_PROXY, as the HTTP side does', async () => {
    await open(proxied, forwardedFor('203.0.113.7'));
    await open(proxied, forwardedFor('203.0.113.7'));
    expect((await refused(proxied, forwardedFor('203.0.113.7'))).code).toBe(1008);
    const other = await open(proxied, forwardedFor('203.0.113.8'));
    expect(other.frames[0]).toMatchObject({ type: 'welcome' });
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  it('answers 401 problem+json with a Bearer challenge without the token or with a wrong one', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN, 'Basic eDp5']) {
      const res = await fetch(`${direct.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await res.text()).not.toContain('ws_connections');
    }
  });

  it('serves the metrics to the token, and stays open where no token is set', async () => {
    const res = await fetch(`${direct.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^ws_connections \d+$/m);
    expect((await fetch(`${proxied.url}/metrics`)).status).toBe(200);
  });
});

describe('inbound currencies.updates beyond the decimal limits', () => {
  it('is dropped with the reason logged and never reaches a socket', async () => {
    const c = await open(proxied, forwardedFor('192.0.2.10'));
    await c.subscribe('currencies');
    nc.publish('currencies.updates', '{"event":"rates_update","rates":{"USD":1e308}}');
    nc.publish('currencies.updates', '{"event":"rates_update","rates":{"EUR":1e-30}}');
    nc.publish('currencies.updates', `{"event":"rates_update","rates":{"GBP":"1${'0'.repeat(30)}"}}`);
    nc.publish('currencies.updates', '{"event":"rates_update","rates":{"CHF":95.12345678901234567891}}');
    const ok = await c.waitFor((f) => f.type === 'event' && f.event === 'currencies.updates');
    expect(ok.data).toEqual({ event: 'rates_update', rates: { CHF: '95.12345678901234567891' } });
    for (const code of ['USD', 'EUR', 'GBP']) {
      await notifier.proc.waitForLine(
        new RegExp(
          `"reason":"rates\\.${code}: expected a decimal number with at most 30 digits.*"msg":"invalid message dropped"`,
        ),
      );
    }
    await c.barrier();
    expect(c.events('currencies')).toHaveLength(1);
  });
});
