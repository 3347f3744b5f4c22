// Wires exchange jobs into the worker process: the shared JetStream consumer and the callback
// delivery loops. Every replica runs both. On shutdown the consumer stops pulling and finishes the
// batches in hand ('in-flight'), then the delivery loops finish their round.
import type { WorkerSettings } from '@ratewire/contracts';
import type { Logger, NatsConnection, Redis, Shutdown } from '@ratewire/core';
import type { Database } from '@ratewire/db';

import { CallbackDelivery } from '../callbacks/callbacks.delivery.ts';
import { JobsConsumer } from './jobs.consumer.ts';

export interface JobsDeps {
  settings: WorkerSettings;
  log: Logger;
  db: Database;
  nats: NatsConnection;
  redis: Redis;
  shutdown: Shutdown;
}

export function startJobs({ settings, log, db, nats, redis, shutdown }: JobsDeps) {
  if (!settings.EXCHANGE_CALLBACK_TOKEN) {
    log.warn(
      'EXCHANGE_CALLBACK_TOKEN is not set: callbacks to EXCHANGE_CALLBACK_URL carry token null and no webhook-signature',
    );
  }
  const delivery = new CallbackDelivery(db, nats, log.child({ part: 'callbacks' }), {
    token: settings.EXCHANGE_CALLBACK_TOKEN,
    allowedHosts: settings.CALLBACK_ALLOWED_HOSTS,
    scheduleMs: settings.CALLBACK_RETRY_SCHEDULE_MS,
    maxAttempts: settings.CALLBACK_MAX_ATTEMPTS,
    timeoutMs: settings.CALLBACK_TIMEOUT_MS,
  });
  const consumer = new JobsConsumer(db, nats, redis, log.child({ part: 'jobs' }), {
    ackWaitMs: settings.JOBS_ACK_WAIT_MS,
    defaultCallbackUrl: settings.EXCHANGE_CALLBACK_URL,
    firstCallbackDelayMs: settings.CALLBACK_RETRY_SCHEDULE_MS[0] ?? 0,
    onCallbacks: () => delivery.notify(),
  });
  consumer.start();
  delivery.start();
  shutdown.add('in-flight', 'callbacks', () => delivery.close());
  shutdown.add('in-flight', 'jobs', () => consumer.close());
  return { consumer, delivery };
}
