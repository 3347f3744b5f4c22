// Reads a channel's capped history (`ws:{<channel>}:stream`) for `since` replays.
import { compareFrameIds, wsRedis } from '@ratewire/contracts';
import type { RedisClient } from '@ratewire/runtime';

import { textFrame } from './ws.wire.ts';

export interface Replay {
  /** Frames after `since` were trimmed away (or the history is gone): the client must reload. */
  truncated: boolean;
  /** The frames after `since`, oldest first, as complete WebSocket frames. */
  frames: { id: string; wire: Buffer }[];
}

/** Entries after `since`, and whether any entry after `since` has already been trimmed. */
export async function readSince(redis: RedisClient, channel: string, since: string): Promise<Replay> {
  const key = wsRedis.streamKey(channel);
  const results = await redis.multi().xinfo('STREAM', key).xrange(key, `(${since}`, '+').exec();
  if (!results) throw new Error('history read aborted');
  const [infoResult, rangeResult] = results;
  if (rangeResult?.[0]) throw rangeResult[0];
  // XINFO fails on a missing key: no history at all, so nothing after `since` can be proven complete
  if (infoResult?.[0]) return { truncated: true, frames: [] };
  const info = infoResult?.[1] as unknown[];
  const field = (name: string) => info[info.indexOf(name) + 1];
  // trimming (unlike XDEL) leaves max-deleted-entry-id alone: entries were trimmed when more were
  // added than remain, and then only from the head, so `since` before the first entry may have
  // missed some (conservative: also when `since` was the very last trimmed entry)
  const trimmed = Number(field('entries-added')) > Number(field('length'));
  const first = field('recorded-first-entry-id');
  const truncated = trimmed && typeof first === 'string' && compareFrameIds(since, first) < 0;
  const head = wsRedis.frameHead(channel);
  const entries = (rangeResult?.[1] ?? []) as [string, string[]][];
  return {
    truncated,
    frames: entries.map(([id, fields]) => ({
      id,
      wire: textFrame(Buffer.from(head + id + (fields[fields.indexOf(wsRedis.tailField) + 1] ?? ''))),
    })),
  };
}
