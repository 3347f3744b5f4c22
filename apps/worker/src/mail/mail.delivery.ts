// Mail delivery: every worker with SMTP_URL runs a couple of loops over mail_outbox. A loop claims
// due rows (lease + skip locked, so replicas share the rows and none is sent twice), and for each
// account mail issues a new link token (voiding the earlier ones of that purpose) — an alert's mail
// needs none: the claim brings its firing — renders the mail and sends it through one pooled SMTP
// transport; then it records every outcome of the round in one statement: sent (with its
// Message-ID), retry later (MAIL_RETRY_SCHEDULE_MS), or failed once MAIL_MAX_ATTEMPTS are spent. The token lives only in the mail: it is never stored or logged.
// The state is in Postgres, so a restart or a dead worker loses nothing: a claimed row whose worker
// died becomes due again when its lease ends.
import {
  LINK_TOKEN_TTL_SECONDS,
  alertFiringEvent,
  claimDueMail,
  issueLinkToken,
  msUntilNextMail,
  recordMailOutcomes,
  type Database,
  type DueAlertMail,
  type DueLinkMail,
  type DueMail,
  type MailOutcome,
} from '@ratewire/db';
import { WakeLoop, errorMessage, nextRetryMs, type Logger } from '@ratewire/runtime';
import { createTransport } from 'nodemailer';

import { MAIL_TEMPLATES, alertTriggeredMail, homeLink, linkFor, type MailContent } from './mail.templates.ts';

export interface MailDeliveryOptions {
  /** SMTP_URL: smtp:// or smtps://, credentials in the URL. */
  smtpUrl: string;
  /** MAIL_FROM */
  from: { name: string; address: string };
  /** PUBLIC_BASE_URL: the links start with it. */
  publicBaseUrl: string;
  /** Delay before attempt n+1 is schedule[min(n, length-1)] (n = attempts made). */
  scheduleMs: readonly number[];
  maxAttempts: number;
  /** Connecting, the greeting and each SMTP reply; one mail gets 3× this in all. */
  timeoutMs: number;
  /** Parallel loops in this worker (default 2). */
  loops?: number;
  /** Mails one loop claims and sends at once (default 5). */
  batchSize?: number;
  /** Longest sleep between looks at the table (rows the api queued meanwhile). */
  maxIdleMs?: number;
}

export interface MailDeliveryDeps extends MailDeliveryOptions {
  db: Database;
  log: Logger;
}

/** Longest error text kept in last_error. */
const MAX_ERROR = 500;

/** Rejects with `what` after `ms` (the send may still finish: mail is delivered at least once). */
function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** One pooled SMTP transport: a connection per mail in flight, every wait bounded by `timeoutMs`. */
function smtpPool(url: string, timeoutMs: number, connections: number) {
  return createTransport({
    url,
    pool: true,
    // a claimed mail never waits behind another's timeout
    maxConnections: connections,
    // a mail that fails is retried on its schedule, not at once on another connection
    maxRequeues: 0,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
  });
}

export class MailDelivery {
  private readonly db: Database;
  private readonly log: Logger;
  private readonly options: MailDeliveryOptions;
  private readonly transport: ReturnType<typeof smtpPool>;
  private readonly loop: WakeLoop;
  /** How long one mail may take: connect, greeting, then the replies. */
  private readonly sendBudgetMs: number;

  constructor({ db, log, ...options }: MailDeliveryDeps) {
    this.db = db;
    this.log = log;
    this.options = options;
    const loops = options.loops ?? 2;
    const batchSize = options.batchSize ?? 5;
    const maxIdle = options.maxIdleMs ?? 1000;
    this.sendBudgetMs = 3 * options.timeoutMs;
    this.transport = smtpPool(options.smtpUrl, options.timeoutMs, loops * batchSize);
    // the lease outlasts a whole round: every send ends (or is given up) within its budget
    const leaseMs = this.sendBudgetMs + 5000;
    this.loop = new WakeLoop({
      loops,
      // a full batch: look again at once; else sleep until the next row is due, or maxIdle
      round: async () => {
        if ((await this.round(batchSize, leaseMs)) >= batchSize) return 0;
        const next = await msUntilNextMail(this.db);
        return Math.max(5, Math.min(next ?? maxIdle, maxIdle));
      },
      backoff: { firstMs: 100, maxMs: 5000 },
      onError: (err, retryMs) => this.log.warn({ err: errorMessage(err), retry_ms: retryMs }, 'mail round failed'),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Stops the loops once their round is over (its mails sent and recorded), then the SMTP pool. */
  /** New mail is queued: look now. */
  notify(): void {
    this.loop.notify();
  }

  async close(): Promise<void> {
    await this.loop.close();
    this.transport.close();
  }

  private async round(batchSize: number, leaseMs: number): Promise<number> {
    const due = await claimDueMail(this.db, batchSize, leaseMs);
    if (!due.length) return 0;
    const outcomes = await Promise.all(due.map((mail) => this.attempt(mail)));
    const recorded = await recordMailOutcomes(this.db, outcomes);
    for (const [i, outcome] of outcomes.entries()) {
      const mail = due[i]!;
      const fields = { mail_id: mail.id, kind: mail.kind, user_id: mail.user_id, attempt: mail.attempts + 1 };
      if (!recorded.has(mail.id)) {
        // the lease ran out (another worker holds the row now), or the account and its mail are gone
        this.log.warn({ ...fields, status: outcome.status }, 'mail outcome not recorded: the row is no longer ours');
      } else if (outcome.status === 'sent') {
        this.log.info({ ...fields, message_id: outcome.messageId }, 'mail sent');
      } else if (outcome.status === 'pending') {
        this.log.warn({ ...fields, err: outcome.error, retry_ms: outcome.retryInMs }, 'mail not sent; will retry');
      } else {
        this.log.error({ ...fields, err: outcome.error }, 'mail failed: no attempts left');
      }
    }
    return due.length;
  }

  private async attempt(mail: DueMail): Promise<MailOutcome> {
    const { from } = this.options;
    try {
      const content = mail.kind === 'alert_triggered' ? this.alertMail(mail) : await this.linkMail(mail);
      const info = await withDeadline(
        this.transport.sendMail({
          from: from.name ? { name: from.name, address: from.address } : from.address,
          to: mail.to_address,
          subject: content.subject,
          text: content.text,
          html: content.html,
        }),
        this.sendBudgetMs,
        `no answer from the SMTP server within ${this.sendBudgetMs} ms`,
      );
      return { id: mail.id, leaseUntil: mail.lease_until, status: 'sent', messageId: info.messageId || null };
    } catch (err) {
      return this.failure(mail, errorMessage(err).slice(0, MAX_ERROR));
    }
  }

  /** An account mail: a new link token for it (the earlier ones of that purpose are voided). */
  private async linkMail(mail: DueLinkMail): Promise<MailContent> {
    const { token, expiresAt } = await issueLinkToken(this.db, {
      userId: mail.user_id,
      purpose: mail.kind,
      email: mail.to_address,
    });
    return MAIL_TEMPLATES[mail.kind]({
      to: mail.to_address,
      link: linkFor(this.options.publicBaseUrl, mail.kind, token),
      expiresAt,
      ttlSeconds: LINK_TOKEN_TTL_SECONDS[mail.kind],
    });
  }

  /** An alert's firing, told from the row the claim read: no token, nothing else to look up. */
  private alertMail(mail: DueAlertMail): MailContent {
    return alertTriggeredMail({
      to: mail.to_address,
      event: alertFiringEvent(mail.firing),
      link: homeLink(this.options.publicBaseUrl),
    });
  }

  private failure(mail: DueMail, error: string): MailOutcome {
    const retryInMs = nextRetryMs(this.options.scheduleMs, mail.attempts + 1, this.options.maxAttempts);
    if (retryInMs === null) return { id: mail.id, leaseUntil: mail.lease_until, status: 'failed', error };
    return { id: mail.id, leaseUntil: mail.lease_until, status: 'pending', error, retryInMs };
  }
}
