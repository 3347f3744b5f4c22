// The notifier's bridge: NATS subjects (queue group `notifier`, so each message is handled by one
// replica) and Redis `notifications` (received by every replica, emitted once thanks to a dedupe
// key on the message's hash) → validated frames → sequenced history + publish.
import { createHash, randomUUID } from 'node:crypto';

import { REDIS_NOTIFICATIONS, type NotifierSettings } from '@ratewire/contracts';
import type { Logger, NatsConnection, RedisClient } from '@ratewire/runtime';
import type { Subscription } from 'nats';

import { createEmitter } from './emitter.ts';
import { BRIDGED_SUBJECTS, framesForNotification, framesForSubject, type FrameSpec, type Mapped } from './frames.ts';

export const NATS_QUEUE_GROUP = 'notifier';
/** A frame whose emit keeps failing (Redis down) is retried this long, then dropped with an error. */
const RETRY_FOR_MS = 60_000;
/** Frames waiting for Redis beyond this are dropped at once: memory stays bounded in an outage. */
const MAX_IN_FLIGHT = 50_000;

export interface BridgeDeps {
  settings: Pick<NotifierSettings, 'WS_HISTORY_MAX_LEN' | 'WS_HISTORY_MAX_AGE_MS'>;
  log: Logger;
  /** Commands (the emit script). */
  redis: RedisClient;
  /** A connection of its own for SUBSCRIBE `notifications`. */
  subscriber: RedisClient;
  nats: NatsConnection;
}

export interface BridgeStats {
  received: number;
  invalid: number;
  emitted: number;
  duplicates: number;
  failed: number;
  inFlight: number;
}

export interface Bridge {
  stats(): BridgeStats;
  /** Stops taking messages (NATS unsubscribe, Redis unsubscribe). */
  stop(): Promise<void>;
  /** Waits until every accepted message has been emitted (or given up). */
  drain(): Promise<void>;
}

export async function startBridge(deps: BridgeDeps): Promise<Bridge> {
  const { log } = deps;
  const emitter = createEmitter(deps.redis, {
    maxLen: deps.settings.WS_HISTORY_MAX_LEN,
    maxAgeMs: deps.settings.WS_HISTORY_MAX_AGE_MS,
  });
  const instance = randomUUID();
  let seq = 0;
  const stats = { received: 0, invalid: 0, emitted: 0, duplicates: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  const warn = rateLimitedWarn(log);
  let stopped = false;

  async function emitWithRetry(frame: FrameSpec, key: string, ts: string): Promise<void> {
    const deadline = Date.now() + RETRY_FOR_MS;
    let delay = 100;
    for (;;) {
      try {
        const id = await emitter.emit(frame, key, ts);
        if (id === null) stats.duplicates++;
        else stats.emitted++;
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          stats.failed++;
          log.error({ err: errorText(err), channel: frame.channel, event: frame.event }, 'frame dropped: emit failed');
          return;
        }
        warn('emit failed; retrying', { err: errorText(err), channel: frame.channel });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  function accept(source: string, mapped: Mapped, keyOf: (index: number) => string): void {
    stats.received++;
    if (!mapped.ok) {
      stats.invalid++;
      warn('invalid message dropped', { source, reason: mapped.reason });
      return;
    }
    if (inFlight.size + mapped.frames.length > MAX_IN_FLIGHT) {
      stats.failed += mapped.frames.length;
      warn('frames dropped: too many waiting for Redis', { source, waiting: inFlight.size });
      return;
    }
    const ts = new Date().toISOString();
    mapped.frames.forEach((frame, index) => {
      const p = emitWithRetry(frame, keyOf(index), ts).finally(() => inFlight.delete(p));
      inFlight.add(p);
    });
  }

  const subs: Subscription[] = BRIDGED_SUBJECTS.map((subject) =>
    deps.nats.subscribe(subject, {
      queue: NATS_QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) {
          warn('nats subscription error', { subject, err: err.message });
          return;
        }
        try {
          const mapped = framesForSubject(msg.subject, msg.string());
          if (mapped.ok && msg.subject === 'currencies.updates') {
            log.info({ subject: msg.subject, data: mapped.frames[0]?.data }, 'inbound currency update forwarded');
          }
          const id = `${instance}:${++seq}`;
          accept(msg.subject, mapped, (i) => `${id}:${i}`);
        } catch (e) {
          warn('message handler failed', { subject: msg.subject, err: errorText(e) });
        }
      },
    }),
  );
  await deps.nats.flush();

  const onNotification = (channel: string, text: string) => {
    if (channel !== REDIS_NOTIFICATIONS || stopped) return;
    try {
      // every replica gets this message: the same content hash makes the emits collapse into one
      const hash = createHash('sha1').update(text).digest('hex');
      accept('redis:notifications', framesForNotification(text), (i) => `n:${hash}:${i}`);
    } catch (e) {
      warn('notification handler failed', { err: errorText(e) });
    }
  };
  deps.subscriber.on('message', onNotification);
  // subscribing before the connection is ready races ioredis' own CLIENT SETINFO on connect
  if (deps.subscriber.status !== 'ready') await new Promise((r) => deps.subscriber.once('ready', r));
  await deps.subscriber.subscribe(REDIS_NOTIFICATIONS);
  log.info({ subjects: BRIDGED_SUBJECTS, queue: NATS_QUEUE_GROUP, redis: REDIS_NOTIFICATIONS }, 'bridge started');

  return {
    stats: () => ({ ...stats, inFlight: inFlight.size }),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const sub of subs) sub.unsubscribe();
      deps.subscriber.off('message', onNotification);
      await deps.subscriber.unsubscribe(REDIS_NOTIFICATIONS).catch(() => {});
    },
    async drain() {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** At most 20 warnings per 10 s; the rest are counted and reported in one line. */
function rateLimitedWarn(log: Logger) {
  let windowStart = 0;
  let count = 0;
  let suppressed = 0;
  return (msg: string, fields: Record<string, unknown>) => {
    const now = Date.now();
    if (now - windowStart > 10_000) {
      if (suppressed) log.warn({ suppressed }, 'warnings suppressed in the last window');
      windowStart = now;
      count = 0;
      suppressed = 0;
    }
    if (++count <= 20) log.warn(fields, msg);
    else suppressed++;
  };
}
