// Mail delivery against a database of its own and a real SMTP server in this process (the
// mailbox): rows queued as the api queues them, mail read back as mailparser parses it.
import { createHash, randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { workerSettingsSchema } from '@ratewire/contracts';
import {
  confirmEmailWithToken,
  enqueueMail,
  enqueuePasswordReset,
  insertUserWithConfirmation,
  resetPasswordWithToken,
} from '@ratewire/db';
import { startMailbox, type CapturedMail, type Mailbox } from '@ratewire/mailbox';
import { parseSettings } from '@ratewire/runtime';
import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';

import { MailDelivery, type MailDeliveryOptions } from '../src/mail/mail.delivery.ts';
import { testLog } from './support.ts';

const BASE = 'https://ratewire.example/app';

let database: TestDatabase;
let mailbox: Mailbox;
let settings: ReturnType<typeof parseSettings<typeof workerSettingsSchema>>;
const running: MailDelivery[] = [];

beforeAll(async () => {
  [database, mailbox] = await Promise.all([createTestDatabase(), startMailbox()]);
  settings = parseSettings(workerSettingsSchema, {
    SMTP_URL: mailbox.url,
    MAIL_FROM: 'Ratewire Tests <mailer@ratewire.example>',
    // given with a trailing slash: the links have none doubled
    PUBLIC_BASE_URL: `${BASE}/`,
  });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
  mailbox.setMode('accept');
});
afterAll(async () => {
  await mailbox?.close();
  await database?.drop();
});

/** A delivery as compose.ts builds it from the settings, with short waits; closed after the test. */
function delivery(options: Partial<MailDeliveryOptions> = {}): MailDelivery {
  const d = new MailDelivery({
    db: database.db,
    log: testLog,
    smtpUrl: settings.SMTP_URL!,
    from: settings.MAIL_FROM,
    publicBaseUrl: settings.PUBLIC_BASE_URL,
    scheduleMs: [0, 50],
    maxAttempts: settings.MAIL_MAX_ATTEMPTS,
    timeoutMs: 2000,
    maxIdleMs: 50,
    ...options,
  });
  running.push(d);
  d.start();
  return d;
}

/** A new account as the api registers it: its confirmation mail is queued with it. */
async function register(): Promise<{ id: string; email: string }> {
  const email = `${randomUUID()}@mail.test`;
  const user = await insertUserWithConfirmation(database.db, { email, name: null, passwordHash: 'x' });
  return { id: user!.id, email };
}

const outboxOf = (userId: string) =>
  database.db.selectFrom('mail_outbox').selectAll().where('user_id', '=', userId).orderBy('id').execute();

const mailTo = (address: string, timeoutMs = 15_000) =>
  mailbox.waitFor((m) => m.envelope.to.includes(address), { timeoutMs });

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** The token of the one link in the plain-text part, which must start with PUBLIC_BASE_URL + page. */
function tokenIn(mail: CapturedMail, page: string): string {
  const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
  expect(links).toHaveLength(1);
  const m = new RegExp(`^${BASE.replace(/[.]/g, '\\.')}${page}\\?token=([A-Za-z0-9_-]{43})$`).exec(links[0]!);
  expect(m, `link ${links[0]}`).not.toBeNull();
  return m![1]!;
}

async function liveTokens(userId: string, purpose: 'confirm_email' | 'password_reset') {
  return database.db
    .selectFrom('link_tokens')
    .select(['token_hash', 'email', 'expires_at'])
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('voided_at', 'is', null)
    .where('used_at', 'is', null)
    .execute();
}

describe('mail delivery', () => {
  it('sends a queued confirmation: subject, From, To, a text and an HTML part with a link whose token is stored hashed', async () => {
    delivery();
    const user = await register();
    const mail = await mailTo(user.email);

    expect(mail.subject).toBe('Confirm your email address for Ratewire');
    expect(mail.from).toEqual({ name: 'Ratewire Tests', address: 'mailer@ratewire.example' });
    expect(mail.envelope.from).toBe('mailer@ratewire.example');
    expect(mail.to).toEqual([{ name: '', address: user.email }]);
    const token = tokenIn(mail, '/account/confirm');
    expect(mail.html).toContain(`href="${BASE}/account/confirm?token=${token}"`);
    expect(mail.text).toContain('expires in 24 hours');
    expect(mail.html).toContain('expires in 24 hours');
    expect(mail.text).toMatch(/If you did not create this account, ignore this mail/);
    expect(mail.html).not.toMatch(/<img|<script|<link|src=/i);

    const [stored] = await liveTokens(user.id, 'confirm_email');
    expect(stored!.token_hash).toEqual(sha256(token));
    expect(stored!.email).toBe(user.email);

    await waitFor(async () => (await outboxOf(user.id))[0]?.status === 'sent', { what: 'the row marked sent' });
    const [row] = await outboxOf(user.id);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, last_error: null, message_id: mail.messageId });
    expect(row!.sent_at).toBeInstanceOf(Date);

    // the mailed token is the one the api accepts
    const confirmed = await confirmEmailWithToken(database.db, token);
    expect('user' in confirmed && confirmed.user.id).toBe(user.id);
  });

  it('sends a password reset with its own subject, page and 30-minute expiry; an unknown address gets none', async () => {
    delivery();
    const user = await register();
    await mailTo(user.email);
    const nobody = `${randomUUID()}@nobody.test`;
    await enqueuePasswordReset(database.db, nobody);
    await enqueuePasswordReset(database.db, user.email.toUpperCase());

    const mail = await mailbox.waitFor((m) => m.envelope.to.includes(user.email) && /Reset/.test(m.subject));
    expect(mail.subject).toBe('Reset your Ratewire password');
    expect(mail.from).toEqual({ name: 'Ratewire Tests', address: 'mailer@ratewire.example' });
    const token = tokenIn(mail, '/account/reset-password');
    expect(mail.html).toContain(`href="${BASE}/account/reset-password?token=${token}"`);
    expect(mail.text).toContain('expires in 30 minutes');
    expect(mail.html).toContain('expires in 30 minutes');
    expect(mail.text).toMatch(/If you did not ask for this, ignore this mail/);
    const [stored] = await liveTokens(user.id, 'password_reset');
    expect(stored!.token_hash).toEqual(sha256(token));
    expect(await resetPasswordWithToken(database.db, token, 'new-hash')).toEqual({ userId: user.id });

    // the unknown address's row was never a mail to send
    const discarded = await database.db
      .selectFrom('mail_outbox')
      .select(['status', 'attempts'])
      .where('user_id', 'is', null)
      .execute();
    expect(discarded).toEqual([{ status: 'discarded', attempts: 0 }]);
    expect(mailbox.messages.some((m) => m.envelope.to.includes(nobody))).toBe(false);
  });

  it('keeps a mail the SMTP server refuses pending (attempts, last_error), and sends it once the server accepts', async () => {
    mailbox.setMode('reject');
    delivery({ scheduleMs: [0, 100] });
    const user = await register();
    const refused = await waitFor(
      async () => {
        const [row] = await outboxOf(user.id);
        return row && row.attempts >= 2 ? row : null;
      },
      { what: 'two refused attempts' },
    );
    expect(refused.status).toBe('pending');
    expect(refused.last_error).toMatch(/451/);
    expect(refused.sent_at).toBeNull();
    expect(mailbox.messages.some((m) => m.envelope.to.includes(user.email))).toBe(false);

    mailbox.setMode('accept');
    const mail = await mailTo(user.email);
    await waitFor(async () => (await outboxOf(user.id))[0]?.status === 'sent', { what: 'the row marked sent' });
    const [row] = await outboxOf(user.id);
    expect(row!.attempts).toBeGreaterThan(refused.attempts);
    expect(row!.message_id).toBe(mail.messageId);
    // each attempt issued a token and voided the one before: only the mailed one is live
    const live = await liveTokens(user.id, 'confirm_email');
    expect(live.map((t) => t.token_hash)).toEqual([sha256(tokenIn(mail, '/account/confirm'))]);
  });

  it('retries a server that does not answer within the timeout, and sends once it does', async () => {
    mailbox.setMode('slow', { delayMs: 5000 });
    delivery({ timeoutMs: 300, scheduleMs: [0, 100] });
    const user = await register();
    const timedOut = await waitFor(
      async () => {
        const [row] = await outboxOf(user.id);
        return row && row.attempts >= 1 ? row : null;
      },
      { what: 'an attempt that timed out' },
    );
    expect(timedOut.status).toBe('pending');
    expect(timedOut.last_error).toMatch(/timeout|no answer/i);
    mailbox.setMode('accept');
    await mailTo(user.email);
    await waitFor(async () => (await outboxOf(user.id))[0]?.status === 'sent', { what: 'the row marked sent' });
  });

  it('retries while the SMTP server is down, and sends once it is back on its port', async () => {
    const gone = await startMailbox();
    const { port, url } = gone;
    await gone.close();
    delivery({ smtpUrl: url, scheduleMs: [0, 100] });
    const user = await register();
    const refused = await waitFor(
      async () => {
        const [row] = await outboxOf(user.id);
        return row && row.attempts >= 1 ? row : null;
      },
      { what: 'an attempt on a closed port' },
    );
    expect(refused.status).toBe('pending');
    expect(refused.last_error).toMatch(/ECONNREFUSED|connect/i);
    const back = await startMailbox({ port });
    try {
      const mail = await back.waitFor((m) => m.envelope.to.includes(user.email), { timeoutMs: 15_000 });
      expect(mail.subject).toBe('Confirm your email address for Ratewire');
    } finally {
      await Promise.all(running.splice(0).map((d) => d.close()));
      await back.close();
    }
  });

  it('marks a mail failed after MAIL_MAX_ATTEMPTS, and sends it no more', async () => {
    mailbox.setMode('reject', { code: 550 });
    const d = delivery({ maxAttempts: 3, scheduleMs: [0, 20] });
    const user = await register();
    await waitFor(async () => (await outboxOf(user.id))[0]?.status === 'failed', { what: 'the row marked failed' });
    const [row] = await outboxOf(user.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, next_attempt_at: null, sent_at: null });
    expect(row!.last_error).toMatch(/550/);

    mailbox.setMode('accept');
    // a mail queued after it goes out, and the failed one still does not
    await enqueueMail(database.db, { kind: 'password_reset', userId: user.id, to: user.email });
    await mailTo(user.email);
    await d.close();
    expect(mailbox.messages.filter((m) => m.envelope.to.includes(user.email)).map((m) => m.subject)).toEqual([
      'Reset your Ratewire password',
    ]);
    expect((await outboxOf(user.id)).map((r) => [r.status, r.attempts])).toEqual([
      ['failed', 3],
      ['sent', 1],
    ]);
  });

  it('two workers, two loops each, share the queue and never send one row twice', async () => {
    delivery({ loops: 2, batchSize: 3 });
    delivery({ loops: 2, batchSize: 3 });
    const users = await Promise.all(Array.from({ length: 30 }, () => register()));
    const ids = users.map((u) => u.id);
    await waitFor(
      async () => {
        const rows = await database.db
          .selectFrom('mail_outbox')
          .select('status')
          .where('user_id', 'in', ids)
          .where('status', '=', 'sent')
          .execute();
        return rows.length === users.length;
      },
      { what: 'every row sent', timeoutMs: 30_000 },
    );
    // both workers end their rounds: any second send of a row would have arrived by now
    await Promise.all(running.splice(0).map((d) => d.close()));
    const addresses = new Set(users.map((u) => u.email));
    const received = mailbox.messages.flatMap((m) => m.envelope.to).filter((a) => addresses.has(a));
    expect(received).toHaveLength(users.length);
    expect(new Set(received).size).toBe(users.length);
    const rows = await database.db.selectFrom('mail_outbox').select('attempts').where('user_id', 'in', ids).execute();
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  });
});
