import { createHmac } from 'node:crypto';

import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readWebhookSecret, rotateWebhookSecret } from '@ratewire/db';
import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import { verifyWebhook } from '@ratewire/webhooks';

import { jobCallbackPayload, signCallback } from '../src/callbacks/callback.signer.ts';
import { CallbackDelivery, type CallbackDeliveryOptions } from '../src/callbacks/callbacks.delivery.ts';
import { checkCallbackUrl, guardedLookup, isForbiddenAddress } from '../src/callbacks/ssrf.guard.ts';
import { processBatch } from '../src/jobs/jobs.processor.ts';
import { seedJobs, seedUser } from './jobs-support.ts';
import { testLog } from './support.ts';

const TOKEN = 'callback-secret';
const TOKEN_KEY = Buffer.from(TOKEN, 'utf8');
/** A user's whsec_ secret as a receiver decodes it, independently of our code. */
const keyOf = (secret: string) => Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
/** `v1,` + base64 HMAC-SHA256, computed here by hand, as a receiver would. */
const hmac = (key: Buffer, id: string, ts: string, body: string) =>
  `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
const signaturesOf = (r: { headers: Record<string, unknown> }) => String(r.headers['webhook-signature']).split(' ');

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
  return new CallbackDelivery({
    db: database.db,
    nats: nc,
    log: testLog,
    token: TOKEN,
    allowedHosts: [],
    scheduleMs: [0, 100, 200],
    maxAttempts: 20,
    timeoutMs: 2000,
    maxIdleMs: 100,
    concurrency: 4,
    ...options,
  });
}

/** Jobs processed for real (result + pending delivery), with the receiver as their target. */
async function doneJobs(n: number, target: { callbackUrl?: string; defaultUrl?: string; owner?: string }) {
  const ids = await seedJobs(database.db, target.owner ?? userId, n, { callbackUrl: target.callbackUrl ?? null });
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

describe('signCallback', () => {
  const payload = () => jobCallbackPayload('r-1', [{ denomination_id: 1, subtotal_rub: '3775.00' }]);
  const userSecret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const oldSecret = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;

  it('for EXCHANGE_CALLBACK_URL: the async exchange service’s body with token, v1,base64(HMAC-SHA256(token bytes, id.timestamp.body))', () => {
    const { body, signature } = signCallback({ target: 'operator', token: TOKEN }, 'msg_1', 1700000000, payload());
    expect(body).toBe(
      '{"token":"callback-secret","request_id":"r-1","breakdown":[{"denomination_id":1,"subtotal_rub":3775.00}]}',
    );
    expect(signature).toBe(hmac(TOKEN_KEY, 'msg_1', '1700000000', body));
    expect(verifyWebhook(TOKEN_KEY, 'msg_1', '1700000000', body, `v1,bogus ${signature!}`)).toBe(true);
    expect(verifyWebhook(TOKEN_KEY, 'msg_1', '1700000001', body, signature!)).toBe(false);
  });

  it('for EXCHANGE_CALLBACK_URL without a token: token null and no signature (first-stage behaviour)', () => {
    const { body, signature } = signCallback({ target: 'operator', token: null }, 'msg_1', 1700000000, payload());
    expect(JSON.parse(body)).toMatchObject({ token: null, request_id: 'r-1' });
    expect(signature).toBeNull();
  });

  it("for a user's callback_url: no token in the body, signed with the user's decoded secret only", () => {
    const { body, signature } = signCallback(
      { target: 'user', current: userSecret, previous: null },
      'msg_1',
      1700000000,
      payload(),
    );
    expect(body).toBe('{"request_id":"r-1","breakdown":[{"denomination_id":1,"subtotal_rub":3775.00}]}');
    expect(signature).toBe(hmac(keyOf(userSecret), 'msg_1', '1700000000', body));
    expect(signature).not.toContain(hmac(TOKEN_KEY, 'msg_1', '1700000000', body));
    // the key is the decoded bytes, not the text of the secret
    expect(signature).not.toBe(hmac(Buffer.from(userSecret, 'utf8'), 'msg_1', '1700000000', body));
  });

  it('while a replaced secret still verifies: two space-separated signatures, the current one first', () => {
    const { body, signature } = signCallback(
      { target: 'user', current: userSecret, previous: oldSecret },
      'msg_1',
      1700000000,
      payload(),
    );
    expect(signature!.split(' ')).toEqual([
      hmac(keyOf(userSecret), 'msg_1', '1700000000', body),
      hmac(keyOf(oldSecret), 'msg_1', '1700000000', body),
    ]);
  });

  it('refuses a payload that carries token itself', () => {
    const bad = { token: 'x', request_id: 'r' } as unknown as ReturnType<typeof payload>;
    expect(() => signCallback({ target: 'user', current: userSecret, previous: null }, 'm', 1, bad)).toThrow(/token/);
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
      // EXCHANGE_CALLBACK_URL keeps the first-stage shape: token in the body, signed with it
      expect(JSON.parse(r.body)).toMatchObject({ token: TOKEN });
      expect(
        verifyWebhook(
          TOKEN_KEY,
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

describe("callback delivery to a job's own callback_url", () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  const deliver = async (id: string, options: Partial<CallbackDeliveryOptions> = {}) => {
    const d = delivery({ allowedHosts: ['127.0.0.1'], ...options });
    d.start();
    await waitFor(async () => (await deliveryRow(id)).status === 'delivered', { what: 'delivered' });
    await d.close();
    return receiver.received.filter((r) => r.headers['webhook-id'] === `msg_${id}`);
  };

  it("has no token and is signed with the owner's webhook secret, not with EXCHANGE_CALLBACK_TOKEN", async () => {
    const owner = await seedUser(database.db);
    const [id] = await doneJobs(1, { callbackUrl: receiver.url, owner });
    const [cb] = await deliver(id!);
    expect(cb).toBeDefined();
    expect(JSON.parse(cb!.body)).toEqual({
      request_id: expect.any(String),
      breakdown: [
        { denomination_id: 1, subtotal_rub: 3775.0 },
        { denomination_id: 2, subtotal_rub: 4530.0 },
      ],
    });
    expect(cb!.body).not.toContain(TOKEN);
    // the worker created the owner's secret when it first signed for them; the api shows that same one
    const { secret } = (await readWebhookSecret(database.db, owner))!;
    expect(secret).toMatch(/^whsec_/);
    const ts = String(cb!.headers['webhook-timestamp']);
    expect(signaturesOf(cb!)).toEqual([hmac(keyOf(secret), `msg_${id}`, ts, cb!.body)]);
    expect(verifyWebhook(TOKEN_KEY, `msg_${id}`, ts, cb!.body, String(cb!.headers['webhook-signature']))).toBe(false);
  });

  it("uses each owner's own secret", async () => {
    const [ann, ben] = [await seedUser(database.db), await seedUser(database.db)];
    const annSecret = (await readWebhookSecret(database.db, ann))!.secret;
    const benSecret = (await readWebhookSecret(database.db, ben))!.secret;
    const [annJob] = await doneJobs(1, { callbackUrl: receiver.url, owner: ann });
    const [benJob] = await doneJobs(1, { callbackUrl: receiver.url, owner: ben });
    const [annCb] = await deliver(annJob!);
    const [benCb] = await deliver(benJob!);
    const check = (cb: typeof annCb, secret: string, id: string) =>
      verifyWebhook(
        keyOf(secret),
        `msg_${id}`,
        String(cb!.headers['webhook-timestamp']),
        cb!.body,
        signaturesOf(cb!).join(' '),
      );
    expect(check(annCb, annSecret, annJob!)).toBe(true);
    expect(check(annCb, benSecret, annJob!)).toBe(false);
    expect(check(benCb, benSecret, benJob!)).toBe(true);
    expect(check(benCb, annSecret, benJob!)).toBe(false);
  });

  it('reads the secret at send time: after a rotation between two attempts both signatures are sent', async () => {
    const owner = await seedUser(database.db);
    const before = (await readWebhookSecret(database.db, owner))!.secret;
    const [id] = await doneJobs(1, { callbackUrl: receiver.url, owner });
    receiver.script = [503];
    const d = delivery({ allowedHosts: ['127.0.0.1'], scheduleMs: [0, 1500] });
    d.start();
    await waitFor(async () => (await deliveryRow(id!)).attempts >= 1, { what: 'the first attempt' });
    const rotated = (await rotateWebhookSecret(database.db, owner))!;
    expect(rotated.previous_secret).toBe(before);
    await waitFor(async () => (await deliveryRow(id!)).status === 'delivered', { what: 'delivered' });
    await d.close();

    const [first, second] = receiver.received.filter((r) => r.headers['webhook-id'] === `msg_${id}`);
    const sigs = (r: typeof first) => ({ ts: String(r!.headers['webhook-timestamp']), list: signaturesOf(r!) });
    const a = sigs(first);
    expect(a.list).toEqual([hmac(keyOf(before), `msg_${id}`, a.ts, first!.body)]);
    const b = sigs(second);
    expect(b.list).toEqual([
      hmac(keyOf(rotated.secret), `msg_${id}`, b.ts, second!.body),
      hmac(keyOf(before), `msg_${id}`, b.ts, second!.body),
    ]);
    expect(b.list).not.toContain(hmac(TOKEN_KEY, `msg_${id}`, b.ts, second!.body));
  });

  it('drops the previous signature once its 24 h are over', async () => {
    const owner = await seedUser(database.db);
    await readWebhookSecret(database.db, owner);
    const rotated = (await rotateWebhookSecret(database.db, owner))!;
    await database.db
      .updateTable('webhook_secrets')
      .set({ previous_expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', owner)
      .execute();
    const [id] = await doneJobs(1, { callbackUrl: receiver.url, owner });
    const [cb] = await deliver(id!);
    const ts = String(cb!.headers['webhook-timestamp']);
    expect(signaturesOf(cb!)).toEqual([hmac(keyOf(rotated.secret), `msg_${id}`, ts, cb!.body)]);
  });
});
