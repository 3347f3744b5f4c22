// The mailbox as a client sees it: nodemailer talks SMTP to it on loopback.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startMailbox, type Mailbox } from '../src/index.ts';

let dir: string;
let mailbox: Mailbox;

beforeAll(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'rw-mailbox-')), 'mail');
  mailbox = await startMailbox({ dir, keep: 3 });
});
afterAll(async () => {
  await mailbox?.close();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});
beforeEach(() => {
  mailbox.setMode('accept');
  mailbox.clear();
});

const send = (to: string, subject: string, options: { socketTimeout?: number } = {}) =>
  createTransport({ url: mailbox.url, ...options }).sendMail({
    from: 'Ratewire <no-reply@ratewire.localhost>',
    to,
    subject,
    text: `plain ${subject}`,
    html: `<p>html ${subject}</p>`,
  });

/** The server's first line, read with a bare socket. */
const greeting = () =>
  new Promise<string>((resolve, reject) => {
    const s = connect({ host: mailbox.host, port: mailbox.port });
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString());
    });
    s.once('error', reject);
  });

describe('startMailbox', () => {
  it('listens on loopback and says in its greeting that nothing leaves the machine', async () => {
    expect(mailbox.url).toBe(`smtp://127.0.0.1:${mailbox.port}`);
    expect(await greeting()).toMatch(/^220 .*nothing leaves this machine/);
  });

  it('keeps a sent message parsed (envelope, headers, both parts) and writes it as an .eml file', async () => {
    const info = await send('Alice <alice@example.test>', 'hello');
    const mail = await mailbox.waitFor((m) => m.subject === 'hello');
    expect(mail.envelope).toEqual({ from: 'no-reply@ratewire.localhost', to: ['alice@example.test'] });
    expect(mail.from).toEqual({ name: 'Ratewire', address: 'no-reply@ratewire.localhost' });
    expect(mail.to).toEqual([{ name: 'Alice', address: 'alice@example.test' }]);
    expect(mail.text.trim()).toBe('plain hello');
    expect(mail.html).toBe('<p>html hello</p>');
    expect(mail.messageId).toBe(info.messageId);
    expect(mail.date).toBeInstanceOf(Date);

    expect(mail.file).not.toBeNull();
    expect(readdirSync(dir)).toContain(mail.file!.slice(dir.length + 1));
    expect(mail.file!).toMatch(/\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[\w-]+\.eml$/);
    expect(readFileSync(mail.file!)).toEqual(mail.raw);
    expect(statSync(mail.file!).mode & 0o777).toBe(0o600);
  });

  it('waitFor resolves with a message that arrives later, and names what came when none matches', async () => {
    const later = mailbox.waitFor((m) => m.to[0]?.address === 'late@example.test');
    await send('early@example.test', 'early');
    await send('late@example.test', 'late');
    expect((await later).subject).toBe('late');
    await expect(mailbox.waitFor((m) => m.subject === 'never', { timeoutMs: 200 })).rejects.toThrow(
      /no matching mail within 200 ms \(received: early@example.test: early; late@example.test: late\)/,
    );
  });

  it('keeps only the latest `keep` messages in memory', async () => {
    for (const n of [1, 2, 3, 4, 5]) await send('many@example.test', `n${n}`);
    expect(mailbox.messages.map((m) => m.subject)).toEqual(['n3', 'n4', 'n5']);
  });

  it("'reject' refuses with a temporary failure until it accepts again", async () => {
    mailbox.setMode('reject');
    await expect(send('x@example.test', 'refused')).rejects.toMatchObject({ responseCode: 451 });
    mailbox.setMode('reject', { code: 550 });
    await expect(send('x@example.test', 'refused')).rejects.toMatchObject({ responseCode: 550 });
    expect(mailbox.messages).toHaveLength(0);
    mailbox.setMode('accept');
    await send('x@example.test', 'accepted');
    expect(mailbox.messages.map((m) => m.subject)).toEqual(['accepted']);
  });

  it("'slow' holds its answer to DATA: a client with a shorter timeout gives up, and the message is not kept", async () => {
    mailbox.setMode('slow', { delayMs: 1000 });
    await expect(send('x@example.test', 'slow', { socketTimeout: 200 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    // what it held is dropped once the delay is over, as the client was never told it was accepted
    await expect(mailbox.waitFor((m) => m.subject === 'slow', { timeoutMs: 3000 })).rejects.toThrow(/no matching/);
    mailbox.setMode('accept');
    await send('z@example.test', 'after');
    expect(mailbox.messages.map((m) => m.subject)).toEqual(['after']);
  });

  it('offers neither AUTH nor STARTTLS: a client that requires TLS sends nothing', async () => {
    const info = (await send('x@example.test', 'plain')) as { ehlo: string[] };
    expect(info.ehlo.some((line) => /^(AUTH|STARTTLS)\b/.test(line))).toBe(false);
    await expect(
      createTransport({ url: mailbox.url, requireTLS: true }).sendMail({
        from: 'a@example.test',
        to: 'b@example.test',
        text: 'x',
      }),
    ).rejects.toThrow(/STARTTLS/);
    expect(mailbox.messages.map((m) => m.subject)).toEqual(['plain']);
  });
});
