// `watch`: one LiveSession over the named channels; each frame delivered is a line on stdout.
import { LiveSession } from '@ratewire/client/live-session';
import { summariseEvent } from '@ratewire/contracts/catalogue';
import { wsChannel, wsFrameId, type WsEventFrame } from '@ratewire/contracts/ws.schemas';

import type { Action } from '../core/command.ts';
import type { Ctx } from '../core/context.ts';
import { CliError, EXIT, usageError } from '../core/exit-codes.ts';
import { clock, oneLine, paint, parseCount } from './lines.ts';
import { liveEnd } from './live-errors.ts';

const PRIVATE = /^(?:jobs|alerts):/;

export function frameLine(frame: WsEventFrame, colour: boolean): string {
  const summary = oneLine(summariseEvent(frame.event, frame.data, frame.channel));
  return `${paint(colour, '2', clock(frame.ts))}  ${paint(colour, '36', frame.channel)}  ${oneLine(frame.event)}  ${summary}`;
}

function checkChannels(list: unknown): string[] {
  const channels = (Array.isArray(list) ? list : [list]).map(String);
  for (const c of channels) {
    if (!wsChannel.safeParse(c).success)
      throw usageError(
        `${JSON.stringify(c)} is not a channel`,
        'channels: currencies, rates.cbr, rates.binance, rates.binance:<SYMBOL>, tasks, tasks:<task_id>, jobs:<job_id>, alerts:<user_id>',
      );
  }
  return [...new Set(channels)];
}

export const watch: Action = async (ctx: Ctx, [list], opts) => {
  const channels = checkChannels(list);
  const count = parseCount(opts['count']);
  const since = typeof opts['since'] === 'string' ? opts['since'] : undefined;
  if (since !== undefined && !wsFrameId.safeParse(since).success)
    throw usageError(
      `--since: ${JSON.stringify(since)} is not a frame id`,
      'a frame id is <ms>-<seq>, e.g. 1764581400000-0',
    );
  const target = ctx.target();
  if (!target.credential && channels.some((c) => PRIVATE.test(c)))
    throw new CliError(
      'not logged in: jobs:<job_id> and alerts:<user_id> are open to their owner only',
      EXIT.auth,
      'run `ratewire login` (or set RATEWIRE_TOKEN to a token or API key)',
    );

  let seen = 0;
  let wasLive = false;
  /** Live since the last connection problem was told. */
  let live = false;
  let told = false;
  const session: LiveSession = new LiveSession({
    baseUrl: target.url,
    token: target.credential?.token,
    channels,
    since: since === undefined ? undefined : new Map(channels.map((c) => [c, since])),
    signal: ctx.io.signal,
    handlers: {
      event(frame, raw) {
        if (count !== undefined && seen >= count) return;
        seen++;
        ctx.print(ctx.json ? raw : frameLine(frame, ctx.colour));
        if (count !== undefined && seen >= count) session.close();
      },
      state(state, detail) {
        if (state === 'connecting' && !told) {
          told = true;
          ctx.say(`connecting to ${detail}`);
        } else if (state === 'live') {
          ctx.say(`${wasLive ? 'resumed' : 'watching'} ${channels.join(', ')}`);
          wasLive = live = true;
        } else if (state === 'reconnecting') {
          ctx.say(`${live ? 'connection lost' : 'not connected'}: ${detail}`);
          live = false;
        }
      },
      reset(channel) {
        ctx.say(`reset ${channel}: its history no longer reaches back to where this watch was; frames were lost`);
      },
    },
  });
  await liveEnd(session);
  if (ctx.io.signal.aborted && (count === undefined || seen < count)) return EXIT.interrupted;
  return EXIT.ok;
};
