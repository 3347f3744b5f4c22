// The JetStream topology that carries exchange jobs from the api's outbox to the workers: the work
// queue stream on the submit subject, and the one durable pull consumer every worker replica shares.
// The api and the worker both ensure the stream at start-up, so either may come up first. Both keep
// NATS_STREAM_REPLICAS copies (3 on a three-node cluster); a stream or consumer found with another
// count is brought to it (JetStream moves the copies while it keeps serving), and when NATS refuses
// (fewer nodes than replicas) the error is logged naming the setting and the existing one is used.
import { SUBJECTS } from '@ratewire/contracts';
import { ensureConsumerReplicas, ensureStreamReplicas, withReplicasHint, type Logger } from '@ratewire/runtime';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type ConsumerConfig,
  type NatsConnection,
  type StreamConfig,
} from 'nats';

export const JOBS_STREAM = 'JOBS';
/** The durable consumer shared by every worker replica (each message goes to one of them). */
export const JOBS_CONSUMER = 'exchange-workers';
/** Re-publishes of one outbox row within this window are dropped by JetStream (Nats-Msg-Id). */
export const JOBS_DUPLICATE_WINDOW_MS = 10 * 60_000;
/** Messages handed out and not yet acknowledged, over all workers. */
export const JOBS_MAX_ACK_PENDING = 5000;

/** How the stream and consumer are kept: replicas (NATS_STREAM_REPLICAS), and where to say what changed. */
export interface JetStreamTopologyOptions {
  /** Copies of the stream and of the consumer. Default 1. */
  replicas?: number;
  log?: Logger;
}

export function jobsStreamConfig(replicas = 1): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: JOBS_STREAM,
    subjects: [SUBJECTS.jobsSubmit],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(JOBS_DUPLICATE_WINDOW_MS),
    num_replicas: replicas,
  };
}

export function jobsConsumerConfig(
  ackWaitMs: number,
  replicas = 1,
): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: JOBS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_deliver: -1,
    max_ack_pending: JOBS_MAX_ACK_PENDING,
    deliver_policy: DeliverPolicy.All,
    filter_subject: SUBJECTS.jobsSubmit,
    num_replicas: replicas,
  };
}

/**
 * Creates the stream when missing; when it exists, makes sure it still takes the submit subject and
 * keeps a long enough dedupe window, and brings its replica count to `replicas`. Two processes
 * racing to create it both succeed (same config).
 */
export async function ensureJobsStream(nc: NatsConnection, options: JetStreamTopologyOptions = {}): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const replicas = options.replicas ?? 1;
  const wanted = jobsStreamConfig(replicas);
  let refused: unknown = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(wanted.name);
      const subjects = info.config.subjects ?? [];
      const window = info.config.duplicate_window ?? 0;
      if (!subjects.includes(SUBJECTS.jobsSubmit) || window < nanos(JOBS_DUPLICATE_WINDOW_MS)) {
        // retention cannot change on an existing stream; only widen what may be widened
        await jsm.streams.update(wanted.name, {
          ...info.config,
          subjects: [...new Set([...subjects, SUBJECTS.jobsSubmit])],
          duplicate_window: Math.max(window, nanos(JOBS_DUPLICATE_WINDOW_MS)),
        });
      }
      await ensureStreamReplicas(jsm, info, replicas, options.log);
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (attempt >= 3) throw withReplicasHint(refused ?? err, replicas);
    }
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (err) {
      // another process created it between our info and add: loop and read it back
      refused = err;
    }
  }
}

/**
 * Ensures the stream, then creates the durable consumer, or brings an existing one's ack wait,
 * pending limit and replica count in line.
 */
export async function ensureJobsConsumer(
  nc: NatsConnection,
  ackWaitMs: number,
  options: JetStreamTopologyOptions = {},
): Promise<void> {
  await ensureJobsStream(nc, options);
  const jsm = await nc.jetstreamManager();
  const replicas = options.replicas ?? 1;
  const config = jobsConsumerConfig(ackWaitMs, replicas);
  const existing = await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER).catch(() => null);
  if (!existing) {
    try {
      await jsm.consumers.add(JOBS_STREAM, config);
      return;
    } catch (err) {
      // another replica created it first
      if (!(await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER).catch(() => null))) {
        throw withReplicasHint(err, replicas);
      }
    }
  }
  const current = existing ?? (await jsm.consumers.info(JOBS_STREAM, JOBS_CONSUMER));
  if (current.config.ack_wait !== config.ack_wait || current.config.max_ack_pending !== JOBS_MAX_ACK_PENDING) {
    await jsm.consumers.update(JOBS_STREAM, JOBS_CONSUMER, {
      ack_wait: config.ack_wait,
      max_ack_pending: JOBS_MAX_ACK_PENDING,
    });
  }
  await ensureConsumerReplicas(jsm, current, replicas, options.log);
}

function isNotFound(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; code?: string; message?: string };
  return e.api_error?.err_code === 10059 || e.code === '404' || /stream not found/i.test(e.message ?? '');
}
