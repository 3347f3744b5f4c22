// The worker's composition root: every part is built here once, from one typed deps object each, and
// registers its shutdown in its phase ('accepting': the pollers finish the poll in flight and the
// feed lock is let go, so another replica leads at once; 'in-flight': the job consumer finishes the
// batches in hand, the delivery loops their sends) before main.ts's connections go
// (NATS → Redis → pool). main.ts parses settings and connects; tests call this with their own.
//
// Feeds (CBR and Binance pollers, the Binance stream when BINANCE_STREAM is auto or on, history
// retention, the rates-refresh task) run on the leader only; every replica serves past-day CBR
// fetches, consumes exchange jobs, judges alerts on each rate change (the ticks are shared, one at a
// time), delivers callbacks and, with SMTP_URL, sends the queued mail.
import { binanceOriginsAgree, type WorkerSettings } from '@ratewire/contracts';
import { recordFeedMode, type Database } from '@ratewire/db';
import { Shutdown, errorMessage, type Logger, type NatsConnection, type RedisClient } from '@ratewire/runtime';

import { AlertsConsumer } from './alerts/alerts.consumer.ts';
import { BinanceClient } from './binance/binance.client.ts';
import { BinanceService } from './binance/binance.service.ts';
import { BinanceStream, type BinanceStreamStatus } from './binance/binance.stream.ts';
import { CallbackDelivery } from './callbacks/callbacks.delivery.ts';
import { CbrClient } from './cbr/cbr.client.ts';
import { serveCbrFetchDay } from './cbr/cbr.fetch-day.ts';
import { pollCbr } from './cbr/cbr.service.ts';
import { FeedPoller } from './feeds/feed-poller.ts';
import { JobsConsumer } from './jobs/jobs.consumer.ts';
import { LeaderElector } from './leadership/leader-elector.ts';
import { MailDelivery } from './mail/mail.delivery.ts';
import { RetentionSchedule } from './retention/binance-retention.ts';
import { RatesRefreshRunner } from './tasks/rates-refresh.runner.ts';

/** Everything the worker needs from outside, built in main.ts (or by a test). */
export interface WorkerDeps {
  settings: WorkerSettings;
  log: Logger;
  db: Database;
  nats: NatsConnection;
  redis: RedisClient;
}

export interface WorkerApp {
  elector: LeaderElector;
  consumer: JobsConsumer;
  delivery: CallbackDelivery;
  /** Judges alerts on every rate change (any replica: the ticks are shared) and sweeps their firings. */
  alerts: AlertsConsumer;
  /** Sends the mail_outbox rows; null without SMTP_URL (the mail stays queued). */
  mail: MailDelivery | null;
  /** How this replica feeds Binance prices, for the health port's /readyz. */
  binanceStatus(): BinanceFeedStatus;
  /** The all-market stream; null with BINANCE_STREAM=off (or auto against another exchange's REST origin). */
  binanceStream: BinanceStream | null;
  /** Runs this worker's shutdown steps; the connections in `deps` stay open: they belong to the caller. */
  close(): Promise<void>;
}

/** BINANCE_STREAM and what this replica does with it: `mode` is null while it does not lead. */
export type BinanceFeedStatus = {
  leader: boolean;
  setting: WorkerSettings['BINANCE_STREAM'];
  mode: BinanceStreamStatus['mode'] | null;
} & Partial<Omit<BinanceStreamStatus, 'setting' | 'mode'>>;

/** Tuning of the stream that settings do not carry (tests shorten the waits). */
export type BinanceStreamTuning = Partial<
  Pick<
    ConstructorParameters<typeof BinanceStream>[0],
    'silenceMs' | 'rotateAfterMs' | 'reconnectBaseMs' | 'reconnectMaxMs' | 'maxFrameBytes' | 'dropLogMs'
  >
>;

/** Tuning of alert evaluation that settings do not carry (tests shorten the waits). */
export type AlertsTuning = Partial<
  Pick<ConstructorParameters<typeof AlertsConsumer>[0], 'sweepMs' | 'announceAfterMs' | 'onTick'>
>;

export function composeWorker(
  deps: WorkerDeps,
  shutdown: Shutdown = new Shutdown(deps.log),
  tuning: { binanceStream?: BinanceStreamTuning; alerts?: AlertsTuning } = {},
): WorkerApp {
  const { settings, log, db, nats, redis } = deps;
  // from the first signal on, no feed poll starts and no lock is taken (the leader-only parts stop first)
  const stopping = () => shutdown.stopping;

  // feeds: 8 s for CBR, as a past-day fetch must answer within the api's 10 s request timeout
  const cbr = { client: new CbrClient({ baseUrl: settings.CBR_BASE_URL, timeoutMs: 8000 }), db, log, nats };
  const cbrPoller = new FeedPoller({
    source: 'cbr',
    intervalMs: settings.CBR_POLL_INTERVAL_MS,
    db,
    log,
    poll: (signal) => pollCbr(cbr, signal),
    stopping,
  });
  const binance = new BinanceService({
    client: new BinanceClient({ baseUrl: settings.BINANCE_BASE_URL }),
    db,
    log,
    nats,
  });
  // BINANCE_STREAM: the stream, with this poller as its fallback and its snapshots; off: the poller alone
  const streamWanted =
    settings.BINANCE_STREAM !== 'off' && binanceOriginsAgree(settings.BINANCE_BASE_URL, settings.BINANCE_WS_URL);
  if (settings.BINANCE_STREAM === 'auto' && !streamWanted) {
    log.info(
      { BINANCE_BASE_URL: settings.BINANCE_BASE_URL, BINANCE_WS_URL: settings.BINANCE_WS_URL },
      'BINANCE_STREAM=auto: BINANCE_WS_URL is not the stream of BINANCE_BASE_URL, so Binance is polled; set BINANCE_WS_URL to stream',
    );
  }
  const binancePoller: FeedPoller = new FeedPoller({
    source: 'binance',
    intervalMs: settings.BINANCE_POLL_INTERVAL_MS,
    db,
    log,
    poll: (signal) => (binanceStream ? binanceStream.poll(signal) : binance.poll(signal)),
    stopping,
  });
  const binanceStream: BinanceStream | null = streamWanted
    ? new BinanceStream({
        setting: settings.BINANCE_STREAM === 'on' ? 'on' : 'auto',
        wsUrl: settings.BINANCE_WS_URL,
        service: binance,
        poller: binancePoller,
        db,
        log: log.child({ part: 'binance-stream' }),
        intervalMs: settings.BINANCE_POLL_INTERVAL_MS,
        ...tuning.binanceStream,
      })
    : null;
  const retention = new RetentionSchedule({ db, log, retentionDays: settings.BINANCE_HISTORY_RETENTION_DAYS });
  const tasks = new RatesRefreshRunner({ db, nats, redis, log, pollers: [cbrPoller, binancePoller] });
  const fetchDay = serveCbrFetchDay(cbr);

  const elector = new LeaderElector({
    // a session-level lock needs a real session: past a transaction-mode pooler, the direct URL
    databaseUrl: settings.DATABASE_DIRECT_URL ?? settings.DATABASE_URL,
    log,
    stopping,
  });
  elector.onChange((leader) => {
    if (leader) {
      binance.reset();
      cbrPoller.start();
      if (binanceStream) binanceStream.start();
      else {
        binancePoller.start();
        recordFeedMode(db, 'binance', settings.BINANCE_POLL_INTERVAL_MS, {
          mode: 'polling',
          setting: settings.BINANCE_STREAM,
        }).catch((err: unknown) => log.warn({ feed: 'binance', err: errorMessage(err) }, 'feed mode not recorded'));
      }
      retention.start();
      tasks.start();
    } else {
      // the lock is gone: another replica may lead already, so stop at once
      void cbrPoller.stop({ abort: true });
      void binancePoller.stop({ abort: true });
      void binanceStream?.stop();
      void retention.stop();
      void tasks.stop();
    }
  });
  elector.start();

  // exchange jobs: the shared JetStream consumer, and the callback delivery loops it wakes
  if (!settings.EXCHANGE_CALLBACK_TOKEN) {
    log.warn(
      'EXCHANGE_CALLBACK_TOKEN is not set: callbacks to EXCHANGE_CALLBACK_URL carry token null and no webhook-signature',
    );
  }
  const delivery = new CallbackDelivery({
    db,
    nats,
    log: log.child({ part: 'callbacks' }),
    token: settings.EXCHANGE_CALLBACK_TOKEN,
    allowedHosts: settings.CALLBACK_ALLOWED_HOSTS,
    scheduleMs: settings.CALLBACK_RETRY_SCHEDULE_MS,
    maxAttempts: settings.CALLBACK_MAX_ATTEMPTS,
    timeoutMs: settings.CALLBACK_TIMEOUT_MS,
    concurrency: settings.CALLBACK_CONCURRENCY,
  });
  const consumer = new JobsConsumer({
    db,
    nats,
    redis,
    log: log.child({ part: 'jobs' }),
    ackWaitMs: settings.JOBS_ACK_WAIT_MS,
    streamReplicas: settings.NATS_STREAM_REPLICAS,
    defaultCallbackUrl: settings.EXCHANGE_CALLBACK_URL,
    firstCallbackDelayMs: settings.CALLBACK_RETRY_SCHEDULE_MS[0] ?? 0,
    onCallbacks: () => delivery.notify(),
  });
  consumer.start();
  delivery.start();

  // mail: every replica may send (skip locked shares the rows); without SMTP_URL it waits queued
  let mail: MailDelivery | null = null;
  if (settings.SMTP_URL) {
    mail = new MailDelivery({
      db,
      log: log.child({ part: 'mail' }),
      smtpUrl: settings.SMTP_URL,
      from: settings.MAIL_FROM,
      publicBaseUrl: settings.PUBLIC_BASE_URL,
      scheduleMs: settings.MAIL_RETRY_SCHEDULE_MS,
      maxAttempts: settings.MAIL_MAX_ATTEMPTS,
      timeoutMs: settings.MAIL_TIMEOUT_MS,
    });
    mail.start();
  } else {
    log.warn('SMTP_URL is not set: mail (address confirmations, password resets, alerts) stays queued until it is');
  }

  // alerts: every replica takes ticks from the shared consumer, one tick at a time over all of them;
  // a tick's firings queue callbacks and mail, so their loops look at once
  const alerts = new AlertsConsumer({
    db,
    nats,
    log: log.child({ part: 'alerts' }),
    ackWaitMs: settings.ALERTS_ACK_WAIT_MS,
    streamReplicas: settings.NATS_STREAM_REPLICAS,
    onFirings: () => {
      delivery.notify();
      mail?.notify();
    },
    ...tuning.alerts,
  });
  alerts.start();

  // leadership goes first, so another replica leads while this one finishes its in-flight work: the
  // leader-only parts stop (a poll in flight finishes), then the lock is let go
  shutdown.add('accepting', 'feed leadership', async () => {
    await Promise.all([cbrPoller.stop(), binancePoller.stop(), binanceStream?.stop(), retention.stop(), tasks.stop()]);
    await elector.stop();
  });
  // a phase's steps run last-added first: the consumer stops, then the delivery loops, then past-day fetches
  shutdown.add('in-flight', 'past-day fetches', () => fetchDay.stop());
  shutdown.add('in-flight', 'callbacks', () => delivery.close());
  shutdown.add('in-flight', 'alerts', () => alerts.close());
  if (mail) shutdown.add('in-flight', 'mail', () => mail.close());
  shutdown.add('in-flight', 'jobs', () => consumer.close());

  const binanceStatus = (): BinanceFeedStatus => {
    const leader = elector.isLeader;
    const setting = settings.BINANCE_STREAM;
    if (!leader) return { leader, setting, mode: null };
    if (!binanceStream) return { leader, setting, mode: 'polling' };
    return { ...binanceStream.status, leader, setting };
  };

  return {
    elector,
    consumer,
    delivery,
    alerts,
    mail,
    binanceStatus,
    binanceStream,
    close: () => shutdown.run('close'),
  };
}
