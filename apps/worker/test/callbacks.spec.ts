import { createHmac } from 'node:crypto';

import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

import { callbackBody, signWebhook, verifyWebhook } from '../src/callbacks/callback.signer.ts';
import { CallbackDelivery, type CallbackDeliveryOptions } from '../src/callbacks/callbacks.delivery.ts';
import { checkCallbackUrl, guardedLookup, isForbiddenAddress } from '../src/callbacks/ssrf.guard.ts';
import { processBatch } from '../src/jobs/jobs.processor.ts';
import { seedJobs, seedUser } from './jobs-support.ts';
import { testLog } from './support.ts';

const TOKEN = 'callback-secret';

let database: TestDatabase;
let nats: PrivateServer;
let nc: NatsConnection;
let userId: string;
const events: { subject: string; data: Record<string, unknown> }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  nats = await startPrivateNats();
  nc = await connect({ servers: nats.url });
  nc.subscribe('jobs.exchange.callback.>', {
    callback: (_e, m) => events.push({ subject: m.subject, data: m.json() }),
  });
  userId = await seedUser(database.db);
});
afterAll(async () => {
  await nc?.close();
  await nats?.close();
  await database?.drop();
});

function delivery(options: Partial<CallbackDeliveryOptions> = {}) {
  return new CallbackDelivery(database.db, nc, testLog, {
    token: TOKEN,
    allowedHosts: [],
    scheduleMs: [0, 100, 200],
    maxAttempts: 20,
    timeoutMs: 2000,
    maxIdleMs: 100,
    loops: 2,
    ...options,
  });
}

/** Jobs processed for real (result + pending delivery), with the receiver as their target. */
async function doneJobs(n: number, target: { callbackUrl?: string; defaultUrl?: string }) {
  const ids = await seedJobs(database.db, userId, n, { callbackUrl: target.callbackUrl ?? null });
  await processBatch(database.db, ids, { defaultCallbackUrl: target.defaultUrl, firstCallbackDelayMs: 0 });
  return ids;
}

const deliveryRow = (id: string) =>
  database.db.selectFrom('callback_deliveries').selectAll().where('job_id', '=', id).executeTakeFirstOrThrow();

describe('SSRF guard', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('checks IP literals in the URL and the scheme before connecting; allowed hosts pass', () => {
    expect(() => checkCallbackUrl('http://[::1]:8080/x', [])).toThrow(/not public/);
    expect(() => checkCallbackUrl('http://169.254.169.254/latest', [])).toThrow(/not public/);
    expect(() => checkCallbackUrl('file:///etc/passwd', [])).toThrow(/scheme/);
    expect(checkCallbackUrl('http://127.0.0.1:9/x', ['127.0.0.1']).hostname).toBe('127.0.0.1');
    expect(checkCallbackUrl('https://example.com/hook', []).hostname).toBe('example.com');
  });

  it('refuses a host name that resolves to a private address, on the lookup used to connect', async () => {
    const lookup = guardedLookup([]);
    const err = await new Promise<Error | null>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
    expect(err?.message).toMatch(/localhost resolves to .* not public/);
    const allowed = await new Promise<string | null>((resolve) =>
      guardedLookup(['localhost'])('localhost', {}, (e, address) =>
        resolve(e || typeof address !== 'string' ? null : address),
      ),
    );
    expect(allowed).toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});

describe('webhook signature', () => {
  it('is v1,base64(HMAC-SHA256(token, id.timestamp.body)) and verifies', () => {
    const body = callbackBody(TOKEN, 'r-1', [{ denomination_id: 1, subtotal_rub: '3775.00' }]);
    expect(body).toBe(
      '{"token":"callback-secret","request_id":"r-1","breakdown":[{"denomination_id":1,"subtotal_rub":3775.00}]}',
    );
    const sig = signWebhook(TOKEN, 'msg_1', 1700000000, body);
    const expected = createHmac('sha256', Buffer.from(TOKEN, 'utf8'))
      .update(`msg_1.1700000000.${body}`)
      .digest('base64');
    expect(sig).toBe(`v1,${expected}`);
    expect(verifyWebhook(TOKEN, 'msg_1', '1700000000', body, `v1,bogus ${sig}`)).toBe(true);
    expect(verifyWebhook(TOKEN, 'msg_1', '1700000001', body, sig)).toBe(false);
  });
});

describe('callback delivery', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('retries while the receiver is down, survives a restart of the worker, same webhook-id on every attempt', async () => {
    await receiver.stop();
    const [id] = await doneJobs(1, { defaultUrl: receiver.url });
    const first = delivery();
    first.start();
    await waitFor(async () => (await deliveryRow(id!)).attempts >= 2, { what: 'two failed attempts' });
    await first.close();
    const failed = await deliveryRow(id!);
    expect(failed).toMatchObject({ status: 'pending', last_status: null, delivered_at: null });
    expect(failed.last_error).toMatch(/ECONNREFUSED/);
    expect(failed.next_attempt_at).toBeInstanceOf(Date);

    // the receiver answers 503 twice, then 200; a new delivery instance picks the row up from Postgres
    receiver.script = [503, 503];
    await receiver.start();
    const second = delivery();
    second.start();
    const done = await waitFor(
      async () => {
        const row = await deliveryRow(id!);
        return row.status === 'delivered' ? row : null;
      },
      { what: 'delivered' },
    );
    await second.close();
    expect(done.attempts).toBe(failed.attempts + 3);
    expect(done.last_status).toBe(200);
    expect(done.delivered_at).toBeInstanceOf(Date);
    expect(done.next_attempt_at).toBeNull();
    const mine = receiver.received.filter((r) => r.headers['webhook-id'] === `msg_${id}`);
    expect(mine).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([`msg_${id}`]));
    for (const r of mine) {
      expect(
        verifyWebhook(
          TOKEN,
          `msg_${id}`,
          String(r.headers['webhook-timestamp']),
          r.body,
          String(r.headers['webhook-signature']),
        ),
      ).toBe(true);
    }
    await waitFor(() => events.find((e) => e.subject === 'jobs.exchange.callback.delivered' && e.data.job_id === id));
  });

  it('gives up after the last attempt and says so on NATS', async () => {
    receiver.script = [500, 500, 500];
    const [id] = await doneJobs(1, { defaultUrl: receiver.url });
    const d = delivery({ maxAttempts: 3 });
    d.start();
    const row = await waitFor(
      async () => {
        const r = await deliveryRow(id!);
        return r.status === 'failed' ? r : null;
      },
      { what: 'failed' },
    );
    await d.close();
    expect(row).toMatchObject({ attempts: 3, last_status: 500, last_error: 'HTTP 500', next_attempt_at: null });
    const event = await waitFor(() =>
      events.find((e) => e.subject === 'jobs.exchange.callback.failed' && e.data.job_id === id),
    );
    expect(event.data).toMatchObject({ attempts: 3, status_code: 500, webhook_id: `msg_${id}` });
  });

  it('refuses a per-job URL whose host resolves to loopback unless the host is allowed', async () => {
    const url = `http://localhost:${receiver.port}/hook`;
    const [refusedId] = await doneJobs(1, { callbackUrl: url });
    const before = receiver.received.length;
    const d = delivery();
    d.start();
    const refused = await waitFor(
      async () => {
        const r = await deliveryRow(refusedId!);
        return r.status === 'failed' ? r : null;
      },
      { what: 'refused' },
    );
    await d.close();
    expect(refused.last_error).toMatch(/^refused: localhost resolves to/);
    expect(refused.attempts).toBe(1);
    expect(receiver.received.length).toBe(before);

    const [allowedId] = await doneJobs(1, { callbackUrl: url });
    const allowed = delivery({ allowedHosts: ['localhost'] });
    allowed.start();
    await waitFor(async () => (await deliveryRow(allowedId!)).status === 'delivered', { what: 'allowed delivery' });
    await allowed.close();
    expect(receiver.received.at(-1)?.headers['webhook-id']).toBe(`msg_${allowedId}`);
  });

  it('does not follow redirects', async () => {
    receiver.script = [302];
    const [id] = await doneJobs(1, { defaultUrl: receiver.url });
    const d = delivery({ maxAttempts: 1 });
    d.start();
    const row = await waitFor(
      async () => {
        const r = await deliveryRow(id!);
        return r.status === 'failed' ? r : null;
      },
      { what: 'failed' },
    );
    await d.close();
    expect(row.last_status).toBe(302);
    expect(receiver.received.some((r) => r.path === '/redirected')).toBe(false);
  });
});
