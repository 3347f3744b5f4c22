// Callback delivery: every worker runs a delivery loop over the callback_deliveries table, which
// carries both exchange-job results and alert firings. The loop claims due rows of either kind
// (lease + skip locked), never more than it has free send slots (`concurrency`), and sends the
// signed body to each — a job's result by PUT, as the async exchange service did, a firing by POST.
// Each outcome is stored as soon as its send ends (the outcomes that end while one is being
// stored go in the next statement together), a freed slot makes the loop claim again, and retries
// are scheduled (Standard Webhooks style, the same settings for both kinds).
// So a worker killed mid-send leaves at most `concurrency` rows whose outcome was not stored:
// those, and only those, are sent again when their lease ends.
// The signing keys are read per claim (callback.keys.ts), so a secret rotated between two attempts
// signs the next one: the operator's token for EXCHANGE_CALLBACK_URL, the owner's own webhook
// secret for an address the owner supplied — a job's callback_url, or any alert's (callback.signer.ts).
// Only job deliveries are announced on NATS (jobs.exchange.callback.delivered|failed).
// The state lives in Postgres, so a restart or a dead worker loses nothing: a claimed row whose
// worker died becomes due again when its lease ends.
import http from 'node:http';
import https from 'node:https';

import { SUBJECTS, type CallbackEvent } from '@ratewire/contracts';
import {
  alertCallbackPayload,
  alertFiringEvent,
  claimDueDeliveries,
  msUntilNextDelivery,
  recordDeliveryOutcomes,
  type Database,
  type DeliveryOutcome,
  type DueDelivery,
} from '@ratewire/db';
import { WakeLoop, errorMessage, nextRetryMs, type Logger, type NatsConnection } from '@ratewire/runtime';
import got, { type Got } from 'got';

import { loadCallbackKeys, type CallbackTarget } from './callback.keys.ts';
import {
  jobCallbackPayload,
  signCallback,
  type CallbackKeys,
  type CallbackLine,
  type CallbackPayload,
} from './callback.signer.ts';
import { SsrfRefused, checkCallbackUrl, guardedLookup } from './ssrf.guard.ts';

export interface CallbackDeliveryOptions {
  /** EXCHANGE_CALLBACK_TOKEN: sent as `token` and signs callbacks to EXCHANGE_CALLBACK_URL only. */
  token: string | undefined;
  allowedHosts: readonly string[];
  /** Delay before attempt n+1 is schedule[min(n, length-1)] (n = attempts made). */
  scheduleMs: readonly number[];
  maxAttempts: number;
  timeoutMs: number;
  /** Callbacks this worker sends at a time, and so claims at most (CALLBACK_CONCURRENCY; default 32). */
  concurrency?: number;
  /** Longest sleep between looks at the table (rows other workers created or left). */
  maxIdleMs?: number;
}

export interface CallbackDeliveryDeps extends CallbackDeliveryOptions {
  db: Database;
  nats: NatsConnection;
  log: Logger;
}

const encoder = new TextEncoder();

export class CallbackDelivery {
  private readonly db: Database;
  private readonly nc: NatsConnection;
  private readonly log: Logger;
  private readonly options: CallbackDeliveryOptions;
  /** Operator-configured target: trusted, own connection pool. */
  private readonly trusted: Got;
  /** Addresses users supplied: every new connection goes through the SSRF lookup guard; own pool. */
  private readonly guarded: Got;
  private readonly agents: http.Agent[] = [];
  private readonly loop: WakeLoop;
  private readonly concurrency: number;
  /** Sends under way, each until its outcome is stored (or failed to be). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Outcomes waiting for the statement that stores them. */
  private pending: {
    outcome: DeliveryOutcome;
    resolve: (attempts: number | undefined) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private writing: Promise<void> | null = null;

  constructor({ db, nats, log, ...options }: CallbackDeliveryDeps) {
    this.db = db;
    this.nc = nats;
    this.log = log;
    this.options = options;
    const client = (lookup?: ReturnType<typeof guardedLookup>) => {
      const agentOptions = { keepAlive: true, maxSockets: 64, ...(lookup ? { lookup } : {}) };
      const agent = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
      this.agents.push(agent.http, agent.https);
      return got.extend({
        retry: { limit: 0 },
        followRedirect: false,
        throwHttpErrors: false,
        timeout: { request: options.timeoutMs },
        agent,
        ...(lookup ? { dnsLookup: lookup } : {}),
      });
    };
    this.trusted = client();
    this.guarded = client(guardedLookup(options.allowedHosts));
    this.concurrency = Math.max(1, options.concurrency ?? 32);
    const maxIdle = options.maxIdleMs ?? 1000;
    this.loop = new WakeLoop({
      // one loop claims for every free slot; a send that ends frees its slot and wakes it
      round: async () => {
        const free = this.concurrency - this.inFlight.size;
        if (free <= 0) return maxIdle;
        if ((await this.claimAndSend(free)) >= free) return 0;
        const next = await msUntilNextDelivery(this.db);
        return Math.max(5, Math.min(next ?? maxIdle, maxIdle));
      },
      backoff: { firstMs: 100, maxMs: 5000 },
      onError: (err, retryMs) => this.log.warn({ err: errorMessage(err), retry_ms: retryMs }, 'callback round failed'),
      // the jobs' commit says Postgres is up: a notify ends a backoff too
      notifyWakes: 'all',
      notifyEndsBackoff: true,
    });
  }

  start(): void {
    this.loop.start();
  }

  /** New deliveries exist: look now. */
  notify(): void {
    this.loop.notify();
  }

  /** Stops claiming, lets the sends under way end and stores their outcomes. */
  async close(): Promise<void> {
    await this.loop.close();
    await Promise.all([...this.inFlight]);
    for (const agent of this.agents) agent.destroy();
  }

  /** Claims up to `limit` due rows and starts sending each; resolves once they are under way. */
  private async claimAndSend(limit: number): Promise<number> {
    const due = await claimDueDeliveries(this.db, limit, this.options.timeoutMs + 5000);
    if (!due.length) return 0;
    // nothing is sent when the keys cannot be read: the claimed rows come back when their lease ends
    const keys = await loadCallbackKeys(this.db, this.options.token ?? null, due.map(targetOf));
    for (const [i, d] of due.entries()) {
      const send: Promise<void> = this.attempt(d, keys[i])
        .then((outcome) => this.settle(d, outcome))
        .catch((err: unknown) => {
          // the outcome was not stored: the row is sent again when its lease ends
          this.log.warn({ ...subjectOf(d), err: errorMessage(err) }, 'callback outcome not recorded');
        })
        .finally(() => {
          this.inFlight.delete(send);
          this.loop.notify();
        });
      this.inFlight.add(send);
    }
    return due.length;
  }

  /** Stores one outcome (with the others that ended meanwhile), then announces it. */
  private async settle(d: DueDelivery, outcome: DeliveryOutcome): Promise<void> {
    const stored = await this.record(outcome);
    if (outcome.status === 'pending') return;
    const made = stored ?? d.attempts + 1;
    if (d.kind === 'alert') {
      // a firing's delivery state is read with its events (GET /alerts/{id}/events); no job event
      if (outcome.status === 'failed') {
        this.log.warn(
          { alert_id: d.firing.alert_id, event_id: d.firing.event_id, attempts: made, err: outcome.error },
          'alert callback failed: no attempts left',
        );
      }
      return;
    }
    const event: CallbackEvent = {
      job_id: d.job_id,
      request_id: d.request_id,
      webhook_id: d.webhook_id,
      attempts: made,
      status_code: outcome.httpStatus,
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    try {
      this.nc.publish(
        outcome.status === 'delivered' ? SUBJECTS.callbackDelivered : SUBJECTS.callbackFailed,
        encoder.encode(JSON.stringify(event)),
      );
    } catch (err) {
      this.log.warn({ err: errorMessage(err), job_id: d.job_id }, 'callback event not published');
    }
  }

  /**
   * Queues an outcome for the next statement: one runs at a time, taking every outcome that ended
   * while the previous one ran. Resolves with the row's attempts count once stored.
   */
  private record(outcome: DeliveryOutcome): Promise<number | undefined> {
    return new Promise<number | undefined>((resolve, reject) => {
      this.pending.push({ outcome, resolve, reject });
      this.writing ??= this.writeAll().finally(() => (this.writing = null));
    });
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length) {
      const group = this.pending.splice(0);
      try {
        const attempts = await recordDeliveryOutcomes(
          this.db,
          group.map((p) => p.outcome),
        );
        for (const p of group) p.resolve(attempts.get(p.outcome.id));
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
  }

  private async attempt(d: DueDelivery, keys: CallbackKeys | undefined): Promise<DeliveryOutcome> {
    const userAddress = isUserAddress(d);
    // the owner's account is gone (its jobs and alerts go with it): nothing may be sent unsigned
    if (!keys) return this.failure(d, null, `no webhook secret for the ${d.kind} owner`);
    try {
      if (userAddress) checkCallbackUrl(d.url, this.options.allowedHosts);
      const timestamp = Math.floor(Date.now() / 1000);
      const { body, signature } = signCallback(keys, d.webhook_id, timestamp, payloadOf(d));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'ratewire-callback/1',
        'webhook-id': d.webhook_id,
        'webhook-timestamp': String(timestamp),
      };
      if (signature) headers['webhook-signature'] = signature;
      const client = userAddress ? this.guarded : this.trusted;
      // a job's result keeps the async exchange service's PUT; a firing is a new event: POST, as Standard Webhooks
      const res = await client(d.url, { method: d.kind === 'job' ? 'PUT' : 'POST', body, headers });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        return { id: d.id, status: 'delivered', httpStatus: res.statusCode, error: null, retryInMs: null };
      }
      return this.failure(d, res.statusCode, `HTTP ${res.statusCode}`);
    } catch (err) {
      if (isRefused(err)) {
        this.log.warn({ ...subjectOf(d), url: d.url, err: errorMessage(err) }, 'callback refused (SSRF guard)');
        return {
          id: d.id,
          status: 'failed',
          httpStatus: null,
          error: `refused: ${errorMessage(err)}`,
          retryInMs: null,
        };
      }
      return this.failure(d, null, errorMessage(err));
    }
  }

  private failure(d: DueDelivery, httpStatus: number | null, error: string): DeliveryOutcome {
    const retryInMs = nextRetryMs(this.options.scheduleMs, d.attempts + 1, this.options.maxAttempts);
    if (retryInMs === null) return { id: d.id, status: 'failed', httpStatus, error, retryInMs: null };
    return { id: d.id, status: 'pending', httpStatus, error, retryInMs };
  }
}

/**
 * A user's address: a job naming its own callback_url, and every alert (its callback_url is its
 * owner's); only a job without one goes to the operator's EXCHANGE_CALLBACK_URL.
 */
const isUserAddress = (d: DueDelivery): boolean => d.kind === 'alert' || d.callback_url !== null;

const targetOf = (d: DueDelivery): CallbackTarget =>
  isUserAddress(d) ? { kind: 'user', userId: d.user_id } : { kind: 'operator' };

/** The body, built when it is sent: the job's result, or the firing as alerts.triggered tells it. */
function payloadOf(d: DueDelivery): CallbackPayload {
  if (d.kind === 'alert') return alertCallbackPayload(alertFiringEvent(d.firing));
  const lines = Array.isArray(d.breakdown) ? (d.breakdown as CallbackLine[]) : [];
  return jobCallbackPayload(d.request_id, lines);
}

const subjectOf = (d: DueDelivery) =>
  d.kind === 'job' ? { job_id: d.job_id } : { alert_id: d.firing.alert_id, event_id: d.firing.event_id };

function isRefused(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof SsrfRefused || (e as { code?: string }).code === 'ERR_SSRF_REFUSED') return true;
  }
  return false;
}
