// WebSocket /ws: client ops and server frames. The gateway validates every client frame with
// `wsClientOp`; server frames are built to match `wsServerFrame` (the notifier serializes event
// frames once and the gateway forwards them as they are).
import { z } from 'zod';

import { ID_FORMS, exactly } from './common.schemas.ts';
import { TASK_ID_FORM } from './events.schemas.ts';
import { text } from './text.schemas.ts';

/**
 * Channels a socket may subscribe to; `jobs:<id>` is private to the job's owner and admins,
 * `alerts:<user_id>` to that account and admins, `tasks:<task_id>` open to whoever knows the id
 * (outside workers' ids: TASK_ID_FORM).
 */
export const WS_CHANNEL_RE = exactly(
  `(?:currencies|rates\\.cbr|rates\\.binance|rates\\.binance:${ID_FORMS.binanceSymbol}|tasks|tasks:${TASK_ID_FORM}|jobs:${ID_FORMS.uuid}|alerts:${ID_FORMS.uuid})`,
);
export const WS_JOB_CHANNEL_RE = /^jobs:([0-9a-f-]{36})$/;
/** `alerts:<user_id>`: that user's firings, for the user and admins. */
export const WS_ALERT_CHANNEL_RE = /^alerts:([0-9a-f-]{36})$/;
/** The answer to a subscribe to `tasks:<id>` whose id is not one (unknown_channel). */
export const WS_TASK_CHANNEL_MESSAGE = 'a task channel is tasks:<task_id>, the id 1 to 200 of A-Z a-z 0-9 . _ : -';
/** The longest channel name: `tasks:` and a 200-character task id fit. */
export const WS_CHANNEL_MAX = 256;

/** Channels a socket that never subscribed follows, as the Currency-API service’s `/ws` did. */
export const WS_DEFAULT_CHANNELS = ['currencies', 'rates.cbr'] as const;

export const WS_LIMITS = {
  /** Largest client frame accepted (bytes); a bigger one closes the socket with 1009. */
  maxFrameBytes: 64 * 1024,
  maxSubscriptions: 100,
  /** Unsent bytes a socket may accumulate before it is closed with 1013. */
  maxBufferedBytes: 1024 * 1024,
} as const;

export const wsChannel = z.string().max(WS_CHANNEL_MAX).regex(WS_CHANNEL_RE, { message: 'unknown channel' }).meta({
  description:
    'currencies, rates.cbr, rates.binance, rates.binance:<SYMBOL>, tasks, tasks:<task_id>, jobs:<job_id>, alerts:<user_id>',
});

const MAX_STREAM_ID_PART = 2n ** 64n - 1n;

/**
 * An ordered frame id: the Redis stream entry id of the channel's history (`<ms>-<seq>`), each
 * part an unsigned 64-bit integer. A larger part names no entry there can be (Redis refuses it).
 */
export const wsFrameId = text()
  .regex(/^\d{1,20}-\d{1,20}$/, { message: 'expected a frame id such as 1-0', abort: true })
  .refine((id) => id.split('-').every((part) => BigInt(part) <= MAX_STREAM_ID_PART), {
    message: 'each part of a frame id is at most 18446744073709551615',
  });

/** Leading zeros dropped (a `since` may carry them; Redis never writes them). */
const digits = (part: string) => {
  let i = 0;
  while (i < part.length - 1 && part.charCodeAt(i) === 48) i++;
  return i ? part.slice(i) : part;
};

const compareDigits = (x: string, y: string) => {
  const a = digits(x);
  const b = digits(y);
  if (a.length !== b.length) return a.length - b.length;
  return a === b ? 0 : a < b ? -1 : 1;
};

/**
 * Orders two frame ids (`<ms>-<seq>`) numerically: negative, zero or positive as `a` is before,
 * the same as, or after `b`. Without numbers, so 64-bit parts compare exactly and quickly.
 */
export function compareFrameIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  return compareDigits(a.slice(0, da), b.slice(0, db)) || compareDigits(a.slice(da + 1), b.slice(db + 1));
}

export const wsClientOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('subscribe'), channel: text().max(WS_CHANNEL_MAX), since: wsFrameId.optional() }),
  z.object({ op: z.literal('unsubscribe'), channel: text().max(WS_CHANNEL_MAX) }),
  z.object({ op: z.literal('auth'), token: text().min(1).max(4096) }),
  z.object({ op: z.literal('ping') }),
]);

export const wsErrorCode = z.enum(['bad_request', 'unauthorized', 'forbidden', 'unknown_channel', 'too_many']);

export const wsEventFrame = z.object({
  type: z.literal('event'),
  channel: wsChannel,
  id: wsFrameId,
  /**
   * The NATS subject the frame came from, or `job.progress` / `task.progress` for Redis notifications
   * (on `tasks:<task_id>` its data is `taskProgressFrameData`).
   */
  event: z.string(),
  data: z.unknown(),
  ts: z.string(),
});

export const wsServerFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome') }),
  z.object({ type: z.literal('subscribed'), channel: wsChannel }),
  z.object({ type: z.literal('authenticated'), user_id: z.string() }),
  wsEventFrame,
  /**
   * Sent after `subscribed` when `since` is older than the channel's history: frames were lost,
   * the client should reload its state; live frames follow.
   */
  z.object({ type: z.literal('reset'), channel: wsChannel, reason: z.literal('history_truncated') }),
  z.object({ type: z.literal('error'), code: wsErrorCode, message: z.string() }),
  z.object({ type: z.literal('pong') }),
]);

export type WsClientOp = z.infer<typeof wsClientOp>;
export type WsServerFrame = z.infer<typeof wsServerFrame>;
export type WsEventFrame = z.infer<typeof wsEventFrame>;
export type WsErrorCode = z.infer<typeof wsErrorCode>;

/**
 * Redis names shared by the notifier (writer) and the api gateways (readers). Each frame is kept in
 * the channel's capped stream as its tail (`r`: everything after the id) and published whole;
 * the stream entry id is the frame id, so `head + id + tail` is the frame. A channel's keys carry
 * the channel as their hash tag (`ws:{<channel>}:…`): in a Redis Cluster they share one slot, so
 * the emit script and the history MULTI touch one node. Pub/sub channels are not keys (classic
 * PUBLISH reaches every node of a cluster).
 */
export const wsRedis = {
  streamKey: (channel: string) => `ws:{${channel}}:stream`,
  /** Marks one frame as emitted (`dedupe` names it across retries and replicas). */
  dedupeKey: (channel: string, dedupe: string) => `ws:{${channel}}:dedupe:${dedupe}`,
  pubsubChannel: (channel: string) => `ws:${channel}`,
  pubsubPrefix: 'ws:',
  frameHead: (channel: string) => `{"type":"event","channel":${JSON.stringify(channel)},"id":"`,
  frameTail: (event: string, data: unknown, ts: string) =>
    `","event":${JSON.stringify(event)},"data":${JSON.stringify(data)},"ts":${JSON.stringify(ts)}}`,
  tailField: 'r',
} as const;
