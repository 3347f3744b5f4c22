// The account flows end to end through real mail: the api in-process, a real worker process sending
// with nodemailer over SMTP to an in-process SMTP server, and the links followed as a person would —
// open the page the mail links to, submit its form.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startMailbox, type CapturedMail, type Mailbox } from '@ratewire/mailbox';
import type { AppProcess } from '@ratewire/testkit';

import { startTestApi, type TestApi } from './harness.ts';
import { spawnWorker } from './jobs-harness.ts';

let mailbox: Mailbox;
let a: TestApi;
let b: TestApi;
let worker: AppProcess;

beforeAll(async () => {
  mailbox = await startMailbox();
  a = await startTestApi();
  b = await startTestApi({}, { shareWith: a });
  worker = spawnWorker(
    { api: a, nats: { url: a.deps.settings.NATS_URL.join(',') } },
    {
      SMTP_URL: mailbox.url,
      MAIL_FROM: 'Ratewire <accounts@ratewire.test>',
      // the links point at the api under test, from the settings only
      PUBLIC_BASE_URL: a.url,
      MAIL_RETRY_SCHEDULE_MS: '0,200',
    },
  );
});
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await b?.close();
  await a?.close();
  await mailbox?.close();
});

/** The one link of a mail, as the plain-text part gives it; the HTML part links to the same place. */
function linkOf(mail: CapturedMail): URL {
  const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
  expect(links).toHaveLength(1);
  const link = new URL(links[0]!);
  expect(mail.html).toContain(link.href.replace(/&/g, '&amp;'));
  return link;
}

const mailTo = (address: string, subject: RegExp) =>
  mailbox.waitFor((m) => m.to.some((t) => t.address === address) && subject.test(m.subject), { timeoutMs: 15_000 });

/** Opens the page a link names and submits its form, as a browser would. */
async function follow(link: URL, fields: Record<string, string> = {}): Promise<{ status: number; html: string }> {
  const page = await fetch(link);
  expect(page.status).toBe(200);
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  const token = /name="token" value="([^"]+)"/.exec(html)?.[1];
  expect(action).toBeDefined();
  expect(token).toBeDefined();
  const posted = await fetch(new URL(action!, link), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: token!, ...fields }).toString(),
  });
  return { status: posted.status, html: await posted.text() };
}

async function register(api: TestApi) {
  const email = `${randomUUID()}@mail-flows.test`;
  const password = `pw-${randomUUID()}`;
  const res = await api.request<{ id: string }>('POST', '/api/v1/auth/register', { body: { email, password } });
  expect(res.status).toBe(201);
  return { id: res.body.id, email, password };
}

async function login(api: TestApi, email: string, password: string) {
  const res = await api.request<{ access_token: string }>('POST', '/api/v1/auth/login', { body: { email, password } });
  return { status: res.status, token: res.body?.access_token };
}

describe('confirming an address through real mail', () => {
  it('register → a mail with both parts → the page → confirmed', async () => {
    const u = await register(a);
    const mail = await mailTo(u.email, /confirm/i);
    expect(mail.from).toEqual({ name: 'Ratewire', address: 'accounts@ratewire.test' });
    expect(mail.subject).toMatch(/confirm your email/i);
    expect(mail.text.length).toBeGreaterThan(0);
    expect(mail.html).toBeTruthy();
    const link = linkOf(mail);
    expect(link.origin).toBe(new URL(a.url).origin);
    expect(link.pathname).toBe('/account/confirm');
    const done = await follow(link);
    expect(done.status).toBe(200);
    expect(done.html).toContain('is confirmed');
    const { token } = await login(b, u.email, u.password);
    expect(
      (await b.request('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).body,
    ).toMatchObject({
      email_confirmed: true,
    });
    // the link worked once
    expect((await follow(link)).status).toBe(400);
  });

  it('resend mails a new link and the first one stops working', async () => {
    const u = await register(a);
    const first = linkOf(await mailTo(u.email, /confirm/i));
    const { token } = await login(a, u.email, u.password);
    const resend = await a.request('POST', '/api/v1/auth/confirm/resend', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(resend.status).toBe(202);
    const second = linkOf(
      await mailbox.waitFor((m) => m.to.some((t) => t.address === u.email) && linkOf(m).href !== first.href, {
        timeoutMs: 15_000,
      }),
    );
    const stale = await follow(first);
    expect(stale.status).toBe(400);
    expect(stale.html).toContain('a newer link was sent');
    expect((await follow(second)).status).toBe(200);
  });
});

describe('resetting a password through real mail', () => {
  it('reset → mail → new password → the old token is refused on the other replica', async () => {
    const u = await register(a);
    const before = await login(b, u.email, u.password);
    expect(before.status).toBe(200);
    const asked = await a.request('POST', '/api/v1/auth/password-reset', { body: { email: u.email } });
    expect(asked.status).toBe(202);
    const mail = await mailTo(u.email, /reset/i);
    expect(mail.subject).toMatch(/reset your ratewire password/i);
    const link = linkOf(mail);
    expect(link.pathname).toBe('/account/reset-password');
    const done = await follow(link, { password: 'the-new-password-1' });
    expect(done.status).toBe(200);
    expect(done.html).toContain('new password is set');
    const me = await b.request('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${before.token}` } });
    expect(me.status).toBe(401);
    expect(me.body).toMatchObject({ code: 'session_ended' });
    expect((await login(b, u.email, u.password)).status).toBe(401);
    expect((await login(a, u.email, 'the-new-password-1')).status).toBe(200);
  });

  it('mails nobody for an address without an account', async () => {
    const stranger = `${randomUUID()}@mail-flows.test`;
    const asked = await a.request('POST', '/api/v1/auth/password-reset', { body: { email: stranger } });
    expect(asked.status).toBe(202);
    // a known address asked right after is mailed; by then the stranger's request has been handled
    const u = await register(a);
    await a.request('POST', '/api/v1/auth/password-reset', { body: { email: u.email } });
    await mailTo(u.email, /reset/i);
    await expect
      .poll(async () => {
        const row = await a.database.db
          .selectFrom('mail_outbox')
          .select('status')
          .where('kind', '=', 'password_reset')
          .where('user_id', 'is', null)
          .executeTakeFirst();
        return row?.status;
      })
      .toBe('discarded');
    expect(mailbox.messages.some((m) => m.to.some((t) => t.address === stranger))).toBe(false);
  });
});

describe('a mail server that is down', () => {
  it('does not slow register down, and the mail arrives once the server accepts again', async () => {
    mailbox.setMode('reject');
    try {
      const started = Date.now();
      const u = await register(a);
      const registerMs = Date.now() - started;
      await expect
        .poll(
          async () =>
            (
              await a.database.db
                .selectFrom('mail_outbox')
                .select(['attempts', 'last_error'])
                .where('user_id', '=', u.id)
                .executeTakeFirst()
            )?.attempts ?? 0,
          { timeout: 10_000 },
        )
        .toBeGreaterThan(0);
      console.log(`register answered in ${registerMs} ms while the mail server refused mail`);
      mailbox.setMode('accept');
      const mail = await mailTo(u.email, /confirm/i);
      expect((await follow(linkOf(mail))).status).toBe(200);
    } finally {
      mailbox.setMode('accept');
    }
  });
});
