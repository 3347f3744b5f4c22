// Rate changes reach alert evaluation through JetStream, so that none is lost to a worker that dies
// mid-evaluation: the stream ALERT_TICKS keeps every rates.binance.updated and rates.cbr.updated
// message (the feeds publish them as they always did; the stream takes them off the subject), and
// the one durable consumer every worker shares hands them out one at a time, in order
// (max_ack_pending 1: a tick's state changes are committed before the next tick is judged). A
// message is acknowledged after its firings committed; a worker killed before that leaves it
// unacknowledged, and after the ack wait it goes to another worker, which judges it again on the
// state the first one may or may not have committed — once per (alert, observation) either way.
//
// Besides, every worker sweeps: firings committed but never announced (their evaluator died in
// between) are announced, and alerts past expires_at are marked expired.
import { SUBJECTS, binanceUpdatedEvent, cbrUpdatedEvent } from '@ratewire/contracts';
import { announceAlertFirings, claimUnpublishedAlertEvents, expireAlerts, type Database } from '@ratewire/db';
import { normalize } from '@ratewire/money';
import {
  MAX_JSON_DEPTH,
  PULL_FAILOVER,
  WakeLoop,
  decodeMessage,
  ensureConsumerReplicas,
  ensureStreamReplicas,
  errorMessage,
  withReplicasHint,
  type Logger,
  type NatsConnection,
} from '@ratewire/runtime';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type ConsumerMessages,
  type JsMsg,
} from 'nats';

import { AlertEvaluator, type TickInput, type TickReport } from './alerts.evaluator.ts';

export const ALERT_TICKS_STREAM = 'ALERT_TICKS';
export const ALERT_EVALUATORS = 'alert-evaluators';
const TICK_SUBJECTS = [SUBJECTS.ratesBinanceUpdated, SUBJECTS.ratesCbrUpdated];
const INBOUND = { maxDepth: MAX_JSON_DEPTH } as const;

export interface AlertsConsumerOptions {
  /** A tick not acknowledged within this goes to another worker (its evaluator is presumed dead). */
  ackWaitMs?: number;
  /** How often to look for unannounced firings and expired alerts. */
  sweepMs?: number;
  /** A firing this old and still unannounced is announced by the sweep. */
  announceAfterMs?: number;
  /** Copies of the ticks stream and of the evaluators' consumer (NATS_STREAM_REPLICAS). Default 1. */
  streamReplicas?: number;
}

export interface AlertsConsumerDeps extends AlertsConsumerOptions {
  db: Database;
  nats: NatsConnection;
  log: Logger;
  /** Told of each tick evaluated (tests, metrics). */
  onTick?: (report: TickReport, input: TickInput) => void;
  /** Told when a tick committed firings (their callbacks and mail are queued: wake the deliveries). */
  onFirings?: () => void;
}

/** Observation times a tick may name: from 1990 to a day ahead of this clock (a feed's, give or take). */
const EARLIEST_TICK = Date.UTC(1990, 0, 1);
const TICK_AHEAD_MS = 86_400_000;

/** A change event as a tick, or why it is not one. */
export function tickOf(subject: string, data: Uint8Array, now = Date.now()): TickInput | { error: string } {
  const when = (at: Date, text: string): string | null =>
    Number.isNaN(at.getTime()) || at.getTime() < EARLIEST_TICK || at.getTime() > now + TICK_AHEAD_MS
      ? `${text} is not a time a rate was observed`
      : null;
  if (subject === SUBJECTS.ratesBinanceUpdated) {
    const m = decodeMessage(binanceUpdatedEvent, data, INBOUND);
    if (!m.ok) return { error: m.reason };
    const at = new Date(m.value.ts);
    const wrong = when(at, `ts ${m.value.ts}`);
    if (wrong) return { error: wrong };
    return {
      source: 'binance',
      at,
      changes: m.value.changed.map((c) => ({ symbol: c.symbol, value: c.price, previous: c.previous })),
    };
  }
  const m = decodeMessage(cbrUpdatedEvent, data, INBOUND);
  if (!m.ok) return { error: m.reason };
  const at = new Date(`${m.value.date}T00:00:00Z`);
  const wrong = when(at, `date ${m.value.date}`);
  if (wrong) return { error: wrong };
  return {
    source: 'cbr',
    at,
    changes: m.value.changed.map((c) => ({
      symbol: c.code,
      value: normalize(c.unit_rate),
      previous: c.previous ? normalize(c.previous.unit_rate) : null,
    })),
  };
}

export class AlertsConsumer {
  readonly evaluator: AlertEvaluator;
  private readonly deps: AlertsConsumerDeps;
  private readonly ackWaitMs: number;
  private messages: ConsumerMessages | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly sweeps: WakeLoop;
  /** Messages taken off the stream so far (judged, or refused as invalid). */
  handled = 0;

  constructor(deps: AlertsConsumerDeps) {
    this.deps = deps;
    this.ackWaitMs = deps.ackWaitMs ?? 30_000;
    this.evaluator = new AlertEvaluator({
      db: deps.db,
      log: deps.log,
      publish: (subject, data) => deps.nats.publish(subject, data),
    });
    const sweepMs = deps.sweepMs ?? 5000;
    this.sweeps = new WakeLoop({
      round: async () => {
        await this.sweep();
        return sweepMs;
      },
      backoff: { firstMs: 1000, maxMs: 30_000 },
      onError: (err, retryMs) => deps.log.warn({ err: errorMessage(err), retry_ms: retryMs }, 'alert sweep failed'),
    });
  }

  start(): void {
    this.running ??= this.run();
    this.sweeps.start();
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.sweeps.close();
    // the tick in hand finishes (and is acknowledged) before the messages stop
    await this.messages?.close().catch(() => {});
    await this.running;
  }

  private async run(): Promise<void> {
    for (let delay = 250; !this.stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await ensureAlertTicks(this.deps.nats, this.ackWaitMs, {
          replicas: this.deps.streamReplicas ?? 1,
          log: this.deps.log,
        });
        const loaded = await this.evaluator.load();
        const consumer = await this.deps.nats.jetstream().consumers.get(ALERT_TICKS_STREAM, ALERT_EVALUATORS);
        if (this.stopped) return;
        this.messages = await consumer.consume({ max_messages: 1, ...PULL_FAILOVER });
        this.deps.log.info({ consumer: ALERT_EVALUATORS, alerts: loaded }, 'evaluating alerts');
        for await (const m of this.messages) await this.handle(m);
        if (this.stopped) return;
      } catch (err) {
        if (this.stopped) return;
        this.deps.log.warn({ err: errorMessage(err), retry_ms: delay }, 'alert evaluation not running; retrying');
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    try {
      await this.judge(m);
    } finally {
      this.handled++;
    }
  }

  private async judge(m: JsMsg): Promise<void> {
    const input = tickOf(m.subject, m.data);
    if ('error' in input) {
      // nothing an outsider publishes on the rates subjects can stop evaluation
      this.deps.log.warn({ subject: m.subject, reason: input.error }, 'rate change not evaluated: invalid message');
      m.term();
      return;
    }
    // a long tick tells JetStream it is still in hand, so the message is not handed to another worker
    const keepAlive = setInterval(() => m.working(), Math.max(1000, this.ackWaitMs / 3));
    try {
      const report = await this.evaluator.tick(input);
      m.ack();
      if (report.fired) this.deps.onFirings?.();
      this.deps.onTick?.(report, input);
      if (report.fired) {
        this.deps.log.info({ source: input.source, at: input.at.toISOString(), ...report }, 'alerts fired');
      }
    } catch (err) {
      if (refusedByPostgres(err)) {
        // a message Postgres refuses (a data or statement error) would fail every worker, every time,
        // and hold back every tick after it: it is dropped, loudly
        this.deps.log.error(
          { err: errorMessage(err), source: input.source, at: input.at.toISOString() },
          'alert tick refused by Postgres; dropped',
        );
        m.term();
      } else {
        this.deps.log.warn({ err: errorMessage(err), source: input.source }, 'alert tick failed; it will be retried');
        m.nak(1000);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async sweep(): Promise<void> {
    const { db, nats, log } = this.deps;
    const expired = await expireAlerts(db);
    if (expired.length) log.info({ alerts: expired.length }, 'alerts expired');
    const unannounced = await claimUnpublishedAlertEvents(db, this.deps.announceAfterMs ?? 10_000, 500);
    if (!unannounced.length) return;
    await announceAlertFirings({ db, log, publish: (subject, data) => nats.publish(subject, data) }, unannounced);
    log.info({ firings: unannounced.length }, 'announced firings an evaluator left unannounced');
  }
}

/** SQLSTATE class 22 (data exception) or 42 (syntax or access rule): retrying changes nothing. */
function refusedByPostgres(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|42)[0-9A-Z]{3}$/.test(code);
}

/**
 * The stream and the shared consumer; either may already exist (another worker made it). Both keep
 * `replicas` copies; an existing one with another count is brought to it.
 */
export async function ensureAlertTicks(
  nc: NatsConnection,
  ackWaitMs: number,
  { replicas = 1, log }: { replicas?: number; log?: Logger } = {},
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const stream = {
    name: ALERT_TICKS_STREAM,
    subjects: TICK_SUBJECTS,
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(60 * 60_000),
    max_bytes: 512 * 1024 * 1024,
    num_replicas: replicas,
  };
  await jsm.streams.add(stream).catch(async (err: unknown) => {
    const existing = await jsm.streams.info(ALERT_TICKS_STREAM).catch(() => null);
    if (!existing) throw withReplicasHint(err, replicas);
    await ensureStreamReplicas(jsm, existing, replicas, log);
  });
  const consumer = {
    durable_name: ALERT_EVALUATORS,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: 1,
    max_deliver: -1,
    deliver_policy: DeliverPolicy.All,
    num_replicas: replicas,
  };
  await jsm.consumers.add(ALERT_TICKS_STREAM, consumer).catch(async (err: unknown) => {
    const existing = await jsm.consumers.info(ALERT_TICKS_STREAM, ALERT_EVALUATORS).catch(() => null);
    if (!existing) throw withReplicasHint(err, replicas);
    if (existing.config.ack_wait !== consumer.ack_wait) {
      await jsm.consumers.update(ALERT_TICKS_STREAM, ALERT_EVALUATORS, { ack_wait: consumer.ack_wait });
    }
    await ensureConsumerReplicas(jsm, existing, replicas, log);
  });
}
