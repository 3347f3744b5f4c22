// Sequences and emits frames: one Lua script appends the frame to the channel's capped history
// and publishes it, so the published frame's id is its history entry id and no reader can see one
// without the other.
import { wsRedis } from '@ratewire/contracts';
import type { RedisClient } from '@ratewire/runtime';

import type { FrameSpec } from './frames.ts';

/**
 * KEYS[1] history stream, KEYS[2] dedupe key: both of the frame's channel, so one hash slot.
 * ARGV: pub/sub channel, frame head, frame tail, max entries (~), max age ms, idle ttl ms, dedupe ttl ms.
 * Returns the new id, or false when the dedupe key says this frame was emitted already.
 */
const EMIT_LUA = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[7]) then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', '${wsRedis.tailField}', ARGV[3])
local ms = tonumber(string.match(id, '^(%d+)'))
redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d', ms - tonumber(ARGV[5])))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. id .. ARGV[3])
return id
`;

/** An idle channel's history is dropped this long after its last frame (job channels come and go). */
export const HISTORY_IDLE_TTL_MS = 3_600_000;
/** How long a dedupe key lives: longer than any retry of one frame. */
export const DEDUPE_TTL_MS = 120_000;

type EmitCommand = (
  stream: string,
  dedupe: string,
  pubsub: string,
  head: string,
  tail: string,
  maxLen: number,
  maxAgeMs: number,
  idleTtlMs: number,
  dedupeTtlMs: number,
) => Promise<string | null>;

export interface EmitOptions {
  maxLen: number;
  maxAgeMs: number;
}

export interface Emitter {
  /**
   * Emits one frame; `dedupeKey` names it across retries and replicas (a second emit with the
   * same key within DEDUPE_TTL_MS is a no-op). Resolves with the id, or null for a duplicate.
   */
  emit(frame: FrameSpec, dedupeKey: string, ts?: string): Promise<string | null>;
}

export function createEmitter(redis: RedisClient, options: EmitOptions): Emitter {
  if (!('wsEmit' in redis)) redis.defineCommand('wsEmit', { numberOfKeys: 2, lua: EMIT_LUA });
  const command = (redis as unknown as { wsEmit: EmitCommand }).wsEmit.bind(redis);
  return {
    emit(frame, dedupeKey, ts = new Date().toISOString()) {
      return command(
        wsRedis.streamKey(frame.channel),
        wsRedis.dedupeKey(frame.channel, dedupeKey),
        wsRedis.pubsubChannel(frame.channel),
        wsRedis.frameHead(frame.channel),
        wsRedis.frameTail(frame.event, frame.data, ts),
        options.maxLen,
        options.maxAgeMs,
        HISTORY_IDLE_TTL_MS,
        DEDUPE_TTL_MS,
      );
    },
  };
}
