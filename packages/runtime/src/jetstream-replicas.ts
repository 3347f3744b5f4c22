// JetStream replica counts (NATS_STREAM_REPLICAS) for what the apps create: an existing stream or
// durable consumer with another count is brought to it at start-up (JetStream moves the copies while
// it keeps serving). When NATS refuses (a single server, fewer cluster nodes than copies) the error
// is logged naming the setting and the stream or consumer is used as it is, so the work keeps
// flowing; a create refused for its count says the setting in its error. And how the apps' pull
// consumers follow a consumer whose leader moved to another node.
import type { ConsumerInfo, JetStreamManager, StreamInfo } from 'nats';
import type { Logger } from 'pino';

import { errorMessage } from './errors.ts';

/**
 * Pull options for the apps' consumers. A pull request waits at the consumer's leader; when that
 * node dies the request dies with it, and the client notices only by missing two idle heartbeats.
 * The client's defaults (30 s requests, 15 s heartbeats) stalled a consumer for half a minute after
 * a NATS node was lost; with these it pulls again from the new leader within about 2 s, for one
 * small pull every 5 s while idle.
 */
export const PULL_FAILOVER = { expires: 5000, idle_heartbeat: 1000 } as const;

/**
 * Brings an existing stream to `replicas` copies. NATS refusing (a single server, fewer nodes than
 * copies) is logged naming the setting, and the stream is used as it is: the work keeps flowing.
 */
export async function ensureStreamReplicas(
  jsm: JetStreamManager,
  info: StreamInfo,
  replicas: number,
  log: Logger | undefined,
): Promise<void> {
  const from = info.config.num_replicas || 1;
  if (from === replicas) return;
  const stream = info.config.name;
  if (replicas > 1 && !info.cluster) {
    // a single server: it would store the count and keep one copy
    log?.error(
      { stream, replicas: from, wanted: replicas },
      'NATS_STREAM_REPLICAS: the stream keeps its replica count, NATS is a single server, not a cluster',
    );
    return;
  }
  try {
    await jsm.streams.update(stream, { ...info.config, num_replicas: replicas });
    log?.info({ stream, from, to: replicas }, 'stream replicas changed (NATS_STREAM_REPLICAS)');
  } catch (err) {
    log?.error(
      { stream, replicas: from, wanted: replicas, err: errorMessage(err) },
      'NATS_STREAM_REPLICAS: the stream keeps its replica count, NATS refused the change',
    );
  }
}

/** Brings an existing durable consumer to `replicas` copies; a refusal is logged, as for a stream. */
export async function ensureConsumerReplicas(
  jsm: JetStreamManager,
  info: ConsumerInfo,
  replicas: number,
  log: Logger | undefined,
): Promise<void> {
  // 0 (created without a count): as many as its stream, the leader and the peers it lists
  const from = info.config.num_replicas || 1 + (info.cluster?.replicas?.length ?? 0);
  if (from === replicas) return;
  const consumer = info.config.durable_name ?? info.name;
  try {
    await jsm.consumers.update(info.stream_name, consumer, { num_replicas: replicas });
    log?.info(
      { stream: info.stream_name, consumer, from, to: replicas },
      'consumer replicas changed (NATS_STREAM_REPLICAS)',
    );
  } catch (err) {
    log?.error(
      { stream: info.stream_name, consumer, replicas: from, wanted: replicas, err: errorMessage(err) },
      'NATS_STREAM_REPLICAS: the consumer keeps its replica count, NATS refused the change',
    );
  }
}

/** A create refused for its replica count says which setting asked for it. */
export function withReplicasHint(err: unknown, replicas: number): unknown {
  const message = errorMessage(err);
  if (replicas > 1 && /replica|cluster|peer|placement|insufficient resources/i.test(message)) {
    return new Error(`NATS_STREAM_REPLICAS=${replicas}: ${message}`, { cause: err });
  }
  return err;
}
