// A local SMTP sink: accepts every message sent to it on loopback, keeps the latest ones parsed (for
// tests to look at), and, given a folder, writes each one there as an .eml file a mail client opens.
// Nothing is relayed anywhere. No AUTH, no STARTTLS: it is for this machine only.
//
// setMode() makes it misbehave on purpose: 'reject' answers MAIL FROM with a temporary failure
// (451, or the code given), 'slow' holds the reply to DATA for delayMs before accepting; a message
// whose client hung up meanwhile is not kept (it was never told the message was accepted).
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface MailAddress {
  /** The display name ('' when there is none). */
  name: string;
  address: string;
}

/** One message as it was received, and as mailparser reads it. */
export interface CapturedMail {
  /** This mailbox's id of the message (also in its file name). */
  id: string;
  receivedAt: Date;
  /** The SMTP envelope: MAIL FROM and every RCPT TO. */
  envelope: { from: string; to: string[] };
  /** The first address of the From header, or null when there is none. */
  from: MailAddress | null;
  /** Every address of the To header(s). */
  to: MailAddress[];
  subject: string;
  /** The plain-text part ('' when there is none). */
  text: string;
  /** The HTML part (null when there is none). */
  html: string | null;
  date: Date | null;
  /** The Message-ID header, angle brackets included. */
  messageId: string | null;
  /** The message as sent, headers and body. */
  raw: Buffer;
  /** Where it was written (null without `dir`). */
  file: string | null;
}

export type MailboxMode = 'accept' | 'reject' | 'slow';

export interface ModeOptions {
  /** 'slow': how long the reply to DATA is held (default 1000 ms). */
  delayMs?: number;
  /** 'reject': the SMTP reply code (default 451, a temporary failure). */
  code?: number;
}

export interface MailboxOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** When set, each message is also written there as `<time>-<id>.eml` (the folder is created). */
  dir?: string;
  /** Messages kept in memory, the oldest dropped first (default 200). */
  keep?: number;
  /** Largest message accepted, in bytes (default 1 MiB); a larger one is refused with 552. */
  maxMessageBytes?: number;
}

export interface Mailbox {
  /** `smtp://127.0.0.1:<port>` */
  url: string;
  host: string;
  port: number;
  /** The folder messages are written to (null without `dir`). */
  dir: string | null;
  /** The latest messages received, oldest first (at most `keep`). */
  readonly messages: readonly CapturedMail[];
  /**
   * The first message kept, or received from now on, that `predicate` accepts; rejects after
   * `timeoutMs` (default 10 s) naming what did arrive.
   */
  waitFor(predicate: (mail: CapturedMail) => boolean, options?: { timeoutMs?: number }): Promise<CapturedMail>;
  setMode(mode: MailboxMode, options?: ModeOptions): void;
  /** Forgets the messages kept in memory (files stay). */
  clear(): void;
  /** Stops listening; clients still connected are told 421 and dropped. */
  close(): Promise<void>;
}

const addressesOf = (header: AddressObject | AddressObject[] | undefined): MailAddress[] =>
  (header === undefined ? [] : Array.isArray(header) ? header : [header]).flatMap((h) =>
    h.value.map((a) => ({ name: a.name, address: a.address ?? '' })),
  );

/** `2026-12-02T14-30-12-345Z`: sorts by time, no character a file system minds. */
const fileTime = (d: Date) => d.toISOString().replace(/[:.]/g, '-');

const smtpError = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });

function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

export async function startMailbox(options: MailboxOptions = {}): Promise<Mailbox> {
  const host = options.host ?? '127.0.0.1';
  const keep = Math.max(1, options.keep ?? 200);
  const maxBytes = options.maxMessageBytes ?? 1024 * 1024;
  const dir = options.dir ?? null;
  if (dir) await mkdir(dir, { recursive: true, mode: 0o700 });

  const messages: CapturedMail[] = [];
  const waiters = new Set<(mail: CapturedMail) => void>();
  let mode: { mode: MailboxMode; delayMs: number; code: number } = { mode: 'accept', delayMs: 0, code: 451 };
  let seq = 0;
  /** Sessions whose reply to DATA is being held ('slow'): true once the client has hung up. */
  const held = new Map<string, boolean>();

  const receive = async (raw: Buffer, session: SMTPServerSession): Promise<string> => {
    const receivedAt = new Date();
    const id = `${(++seq).toString().padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
    const parsed = await simpleParser(raw);
    let file: string | null = null;
    if (dir) {
      file = join(dir, `${fileTime(receivedAt)}-${id}.eml`);
      // the links in these mails open accounts: for this user only
      await writeFile(file, raw, { mode: 0o600 });
    }
    const { mailFrom, rcptTo } = session.envelope;
    const mail: CapturedMail = {
      id,
      receivedAt,
      envelope: { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r) => r.address) },
      from: addressesOf(parsed.from)[0] ?? null,
      to: addressesOf(parsed.to),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : null,
      date: parsed.date ?? null,
      messageId: parsed.messageId ?? null,
      raw,
      file,
    };
    messages.push(mail);
    if (messages.length > keep) messages.splice(0, messages.length - keep);
    for (const waiter of [...waiters]) waiter(mail);
    return id;
  };

  const server = new SMTPServer({
    name: 'ratewire-mailbox',
    banner: 'Ratewire mail catcher: nothing leaves this machine',
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    disableReverseLookup: true,
    size: maxBytes,
    logger: false,
    // on close, connected clients (an idle pool) get 421 at once rather than after 30 s
    closeTimeout: 100,
    onMailFrom(_address, _session, callback) {
      if (mode.mode === 'reject') return callback(smtpError('mailbox is not accepting mail now', mode.code));
      callback();
    },
    onData(stream, session, callback) {
      readAll(stream)
        .then(async (raw) => {
          if (stream.sizeExceeded) throw smtpError(`message larger than ${maxBytes} bytes`, 552);
          if (mode.mode === 'slow') {
            held.set(session.id, false);
            await new Promise((r) => setTimeout(r, mode.delayMs));
            const hungUp = held.get(session.id);
            held.delete(session.id);
            if (hungUp) throw smtpError('client hung up before the reply', 451);
          }
          callback(null, `queued as ${await receive(raw, session)}`);
        })
        .catch((err: unknown) => {
          const e = err as Error & { responseCode?: number };
          callback(e.responseCode ? e : smtpError(`could not keep the message: ${e.message}`, 451));
        });
    },
    onClose(session) {
      if (held.has(session.id)) held.set(session.id, true);
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  // an error after start (a client's socket) must not end the process
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    dir,
    messages,
    waitFor(predicate, { timeoutMs = 10_000 } = {}) {
      const kept = messages.find(predicate);
      if (kept) return Promise.resolve(kept);
      return new Promise((resolve, reject) => {
        const waiter = (mail: CapturedMail) => {
          if (!predicate(mail)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(mail);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const seen = messages.map((m) => `${m.envelope.to.join(',')}: ${m.subject}`).join('; ') || 'none';
          reject(new Error(`no matching mail within ${timeoutMs} ms (received: ${seen})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    setMode(next, { delayMs = 1000, code = 451 } = {}) {
      mode = { mode: next, delayMs, code };
    },
    clear() {
      messages.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
