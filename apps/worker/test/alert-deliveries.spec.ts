// An alert's firing delivered as the worker delivers it: the callback delivery and the mail delivery
// built from the worker's settings as compose.ts builds them, against a database of this file's own,
// a NATS of its own (to tell that no job event is published), a real callback receiver on 127.0.0.1
// and a real SMTP server in this process. Firings are committed by the statement the evaluator uses.
import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { workerSettingsSchema } from '@ratewire/contracts';
import { commitAlertTick, insertTestFiring, readWebhookSecret, type AlertFiringRow, type Database } from '@ratewire/db';
import { startMailbox, type Mailbox } from '@ratewire/mailbox';
import { createNats, parseSettings, type NatsConnection } from '@ratewire/runtime';
import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';
import { insertAlert } from '@ratewire/testkit/alerts';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';
import { verifyWebhook, webhookSecretKey } from '@ratewire/webhooks';

import { CallbackDelivery } from '../src/callbacks/callbacks.delivery.ts';
import { MailDelivery } from '../src/mail/mail.delivery.ts';
import { testLog } from './support.ts';

const BASE = 'https://alerts.ratewire.example';
const OPERATOR_TOKEN = 'operator-token-never-sent-to-users';

let database: TestDatabase;
let db: Database;
let natsServer: PrivateServer;
let nats: NatsConnection;
let receiver: Receiver;
let mailbox: Mailbox;
let settings: ReturnType<typeof parseSettings<typeof workerSettingsSchema>>;
const jobEvents: string[] = [];
const running: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  [database, natsServer, receiver, mailbox] = await Promise.all([
    createTestDatabase(),
    startPrivateNats(),
    startReceiver(),
    startMailbox(),
  ]);
  db = database.db;
  nats = await createNats([natsServer.url], testLog, 'alert-deliveries-test');
  nats.subscribe('jobs.exchange.callback.>', { callback: (_e, m) => jobEvents.push(m.subject) });
  settings = parseSettings(workerSettingsSchema, {
    DATABASE_URL: database.url,
    EXCHANGE_CALLBACK_TOKEN: OPERATOR_TOKEN,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
    CALLBACK_RETRY_SCHEDULE_MS: '0,100',
    CALLBACK_MAX_ATTEMPTS: '5',
    SMTP_URL: mailbox.url,
    MAIL_FROM: 'Ratewire Alerts <alerts@ratewire.example>',
    PUBLIC_BASE_URL: `${BASE}/`,
    MAIL_RETRY_SCHEDULE_MS: '0,100',
  });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
  receiver.script = [];
});
afterAll(async () => {
  await nats?.drain();
  await Promise.all([natsServer?.close(), receiver?.stop(), mailbox?.close()]);
  await database?.drop();
});

/** The worker's two delivery parts, from its settings as compose.ts passes them (shorter idle waits). */
function startDeliveries(): void {
  const callbacks = new CallbackDelivery({
    db,
    nats,
    log: testLog,
    token: settings.EXCHANGE_CALLBACK_TOKEN,
    allowedHosts: settings.CALLBACK_ALLOWED_HOSTS,
    scheduleMs: settings.CALLBACK_RETRY_SCHEDULE_MS,
    maxAttempts: settings.CALLBACK_MAX_ATTEMPTS,
    timeoutMs: settings.CALLBACK_TIMEOUT_MS,
    maxIdleMs: 50,
  });
  const mail = new MailDelivery({
    db,
    log: testLog,
    smtpUrl: settings.SMTP_URL!,
    from: settings.MAIL_FROM,
    publicBaseUrl: settings.PUBLIC_BASE_URL,
    scheduleMs: settings.MAIL_RETRY_SCHEDULE_MS,
    maxAttempts: settings.MAIL_MAX_ATTEMPTS,
    timeoutMs: settings.MAIL_TIMEOUT_MS,
    maxIdleMs: 50,
  });
  running.push(callbacks, mail);
  callbacks.start();
  mail.start();
}

/** An account with a confirmed address. */
async function confirmedUser(): Promise<{ id: string; email: string }> {
  const email = `${randomUUID()}@alerts.test`;
  const row = await db
    .insertInto('users')
    .values({ email, name: null, password_hash: 'x', email_confirmed_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, email };
}

/** A `crosses_above 65000` alert on a symbol of its own, by callback and by mail. */
const crossingAlert = (userId: string, callbackUrl: string) =>
  insertAlert(db, userId, { level: '65000', channels: ['callback', 'email'], callback_url: callbackUrl });

let clock = Date.parse('2026-12-05T10:00:00.000Z');

/**
 * One observation that crosses the level, stored as the Binance feed stores prices (after the one
 * before it), and committed as the evaluator commits a tick; the tick and the stored prices agree.
 */
async function fire(alert: { id: string; symbol: string }): Promise<AlertFiringRow> {
  const before = new Date((clock += 60_000));
  const at = new Date((clock += 60_000));
  await db
    .insertInto('binance_price_history')
    .values([
      { symbol: alert.symbol, price: '64990.00', observed_at: before },
      { symbol: alert.symbol, price: '65010.50', observed_at: at },
    ])
    .execute();
  const observation = {
    symbol: alert.symbol,
    value: '65010.50',
    previous: '64990.00',
    reference1h: null,
    reference24h: null,
    at,
  };
  const { fired } = await commitAlertTick(db, {
    source: 'binance',
    observations: [observation],
    candidates: [alert.id],
  });
  expect(fired).toHaveLength(1);
  return fired[0]!;
}

const callbackRow = (eventId: string) =>
  db.selectFrom('callback_deliveries').selectAll().where('alert_event_id', '=', eventId).executeTakeFirstOrThrow();
const mailRow = (eventId: string) =>
  db.selectFrom('mail_outbox').selectAll().where('alert_event_id', '=', eventId).executeTakeFirstOrThrow();
const callbacksOf = (eventId: string) => receiver.received.filter((r) => r.headers['webhook-id'] === `msg_${eventId}`);

async function settled<T>(read: () => Promise<T & { status: string }>, status: string, what: string): Promise<T> {
  return waitFor(
    async () => {
      const row = await read();
      return row.status === status ? row : null;
    },
    { what, timeoutMs: 15_000 },
  );
}

describe('an alert firing, by callback', () => {
  it("POSTs the firing once, without token, signed with the owner's webhook secret; the row ends delivered", async () => {
    const user = await confirmedUser();
    const alert = await crossingAlert(user.id, receiver.url);
    const firing = await fire(alert);
    startDeliveries();

    const row = await settled(() => callbackRow(firing.event_id), 'delivered', 'the callback delivered');
    expect(row).toMatchObject({ attempts: 1, last_status: 200, last_error: null, job_id: null });
    const received = callbacksOf(firing.event_id);
    expect(received).toHaveLength(1);
    const [cb] = received;
    expect(cb!.method).toBe('POST');
    expect(cb!.path).toBe('/hook');
    expect(cb!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(cb!.body)).toEqual({
      type: 'alert.triggered',
      alert_id: alert.id,
      event_id: firing.event_id,
      test: false,
      source: 'binance',
      symbol: alert.symbol,
      condition: { type: 'crosses_above', level: '65000' },
      observed: { value: '65010.5', previous: '64990', at: firing.observed_at.toISOString() },
    });
    expect(cb!.body).not.toContain('token');
    expect(cb!.body).not.toContain(OPERATOR_TOKEN);

    // a receiver checks it with the secret the api shows the owner, and nothing else verifies it
    const { secret } = (await readWebhookSecret(db, user.id))!;
    const ts = String(cb!.headers['webhook-timestamp']);
    const header = String(cb!.headers['webhook-signature']);
    expect(ts).toMatch(/^\d{10}$/);
    expect(verifyWebhook(webhookSecretKey(secret), `msg_${firing.event_id}`, ts, cb!.body, header)).toBe(true);
    expect(verifyWebhook(Buffer.from(OPERATOR_TOKEN, 'utf8'), `msg_${firing.event_id}`, ts, cb!.body, header)).toBe(
      false,
    );
    const other = (await readWebhookSecret(db, (await confirmedUser()).id))!.secret;
    expect(verifyWebhook(webhookSecretKey(other), `msg_${firing.event_id}`, ts, cb!.body, header)).toBe(false);

    // job events are for jobs: the firing's delivery published none
    await nats.flush();
    expect(jobEvents).toEqual([]);
  });

  it('retries a receiver that answers 500, with the same webhook-id, and ends delivered after 2 attempts', async () => {
    const user = await confirmedUser();
    const alert = await crossingAlert(user.id, receiver.url);
    receiver.script = [500];
    const firing = await fire(alert);
    startDeliveries();

    const row = await settled(() => callbackRow(firing.event_id), 'delivered', 'delivered after a retry');
    expect(row).toMatchObject({ attempts: 2, last_status: 200, last_error: null, next_attempt_at: null });
    const received = callbacksOf(firing.event_id);
    expect(received.map((r) => r.method)).toEqual(['POST', 'POST']);
    // both attempts carry the same body, each signed for its own timestamp
    expect(received[1]!.body).toBe(received[0]!.body);
    const { secret } = (await readWebhookSecret(db, user.id))!;
    for (const r of received) {
      const ts = String(r.headers['webhook-timestamp']);
      expect(
        verifyWebhook(
          webhookSecretKey(secret),
          `msg_${firing.event_id}`,
          ts,
          r.body,
          String(r.headers['webhook-signature']),
        ),
      ).toBe(true);
    }
  });

  it('refuses an address that is not public and not allowed: failed at once, with refused:, nothing sent', async () => {
    const user = await confirmedUser();
    const alert = await crossingAlert(user.id, 'http://10.20.30.40:8080/hook');
    const firing = await fire(alert);
    startDeliveries();

    const row = await settled(() => callbackRow(firing.event_id), 'failed', 'the callback refused');
    expect(row.attempts).toBe(1);
    expect(row.last_status).toBeNull();
    expect(row.last_error).toMatch(/^refused: /);
    expect(row.next_attempt_at).toBeNull();
    expect(callbacksOf(firing.event_id)).toHaveLength(0);
  });
});

describe('an alert firing, by mail', () => {
  it('mails the confirmed address once, naming the symbol, the level and the value as stored; the row ends sent', async () => {
    const user = await confirmedUser();
    const alert = await crossingAlert(user.id, receiver.url);
    const firing = await fire(alert);
    startDeliveries();

    const mail = await mailbox.waitFor((m) => m.envelope.to.includes(user.email), { timeoutMs: 15_000 });
    const row = await settled(() => mailRow(firing.event_id), 'sent', 'the mail marked sent');
    expect(row).toMatchObject({ kind: 'alert_triggered', attempts: 1, last_error: null, message_id: mail.messageId });

    expect(mail.subject).toBe(`${alert.symbol} crossed above 65000`);
    expect(mail.from).toEqual({ name: 'Ratewire Alerts', address: 'alerts@ratewire.example' });
    expect(mail.to).toEqual([{ name: '', address: user.email }]);
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain(alert.symbol);
      expect(part).toContain('65010.5');
      expect(part).toContain('64990');
      expect(part).toContain(alert.id);
      expect(part).toContain(`${BASE}`);
      expect(part).not.toMatch(/token=/);
    }
    expect(mail.text).toContain(
      `Your Ratewire alert on ${alert.symbol} on Binance fired: ${alert.symbol} crossed above 65000.`,
    );
    expect(mail.text.match(/https?:\/\/\S+/g)).toEqual([BASE]);
    expect(mail.html).not.toMatch(/<img|<script|<link|src=/i);
    // no link token was issued for it
    const tokens = await db.selectFrom('link_tokens').select('purpose').where('user_id', '=', user.id).execute();
    expect(tokens).toEqual([]);

    // the rounds after it sent nothing more to that address
    await Promise.all(running.splice(0).map((d) => d.close()));
    expect(mailbox.messages.filter((m) => m.envelope.to.includes(user.email))).toHaveLength(1);
  });

  it('a test firing is mailed with [test] in the subject, and its callback says test: true', async () => {
    const user = await confirmedUser();
    const alert = await crossingAlert(user.id, receiver.url);
    const firing = (await insertTestFiring(db, alert.id, { value: '65000.00000001', previous: null }))!;
    startDeliveries();

    const mail = await mailbox.waitFor((m) => m.envelope.to.includes(user.email), { timeoutMs: 15_000 });
    expect(mail.subject).toBe(`[test] ${alert.symbol} crossed above 65000`);
    expect(mail.text).toContain('65000.00000001');
    expect(mail.text).toMatch(/This is a test/);
    await settled(() => callbackRow(firing.event_id), 'delivered', 'the test callback delivered');
    const [cb] = callbacksOf(firing.event_id);
    expect(JSON.parse(cb!.body)).toMatchObject({
      type: 'alert.triggered',
      test: true,
      event_id: firing.event_id,
      observed: { value: '65000.00000001', previous: null },
    });
  });
});
