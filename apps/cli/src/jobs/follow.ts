// Follows one job to its end over its WS channel `jobs:<id>`: a bar redrawn in place on a terminal,
// plain status lines elsewhere. On every `subscribed` the job is read once over REST, so a job that
// finished before the subscription (or while the socket was away) still ends the wait.
import { LiveSession } from '@ratewire/client/live-session';
import { exchangeJobView, type ExchangeJobView } from '@ratewire/contracts/jobs.schemas';

import type { Ctx } from '../core/context.ts';
import { CliError, EXIT } from '../core/exit-codes.ts';
import { liveEnd } from '../live/live-errors.ts';
import { redraw, renderBar, statusLine, type BarState } from './progress.ts';

const TERMINAL = new Set(['done', 'failed']);

export const getJob = (ctx: Ctx, id: string) =>
  ctx.api().json(exchangeJobView, 'GET', `/api/v1/exchange-jobs/${encodeURIComponent(id)}`, { auth: 'required' });

/** Whether the bar may be drawn in place: a terminal on both streams, colour allowed, not --json. */
export function drawsInPlace(ctx: Ctx): boolean {
  return ctx.colour && ctx.io.stderr.isTTY === true && !ctx.json;
}

const interrupted = (jobId: string) =>
  new CliError(
    `interrupted: job ${jobId} keeps running on the service`,
    EXIT.interrupted,
    `see it with \`ratewire jobs get ${jobId}\`, or follow it again with \`ratewire jobs watch ${jobId}\``,
  );

export async function followJob(ctx: Ctx, jobId: string): Promise<ExchangeJobView> {
  // a signal that is already aborted fires no 'abort' event: the session would never hear of it
  if (ctx.io.signal.aborted) throw interrupted(jobId);
  const target = ctx.target();
  if (!target.credential)
    throw new CliError('not logged in', EXIT.auth, 'run `ratewire login` (or set RATEWIRE_TOKEN)');
  const live = drawsInPlace(ctx);
  const state: BarState = { progress: undefined, status: 'queued', label: `job ${jobId}` };
  let shown = '';
  const show = () => {
    if (ctx.json) return;
    if (live) {
      // the bar names the job by its first 8 characters; the full id was printed on submit
      ctx.io.stderr.write(redraw(renderBar({ ...state, label: `job ${jobId.slice(0, 8)}` }, ctx.io.stderr.columns)));
      return;
    }
    const line = statusLine(state);
    if (line !== shown) ctx.say(line);
    shown = line;
  };

  let result: ExchangeJobView | undefined;
  let failure: Error | undefined;
  let reading = Promise.resolve();
  // reads are chained: two answers never race to set the result
  const check = (session: LiveSession) => {
    reading = reading.then(async () => {
      if (result) return;
      try {
        const view = await getJob(ctx, jobId);
        if (result) return;
        state.status = view.status;
        if (TERMINAL.has(view.status)) {
          state.progress = view.status === 'done' ? 1 : state.progress;
          result = view;
          show();
          session.close();
        } else show();
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        session.close();
      }
    });
  };

  const session: LiveSession = new LiveSession({
    baseUrl: target.url,
    token: target.credential.token,
    channels: [`jobs:${jobId}`],
    signal: ctx.io.signal,
    handlers: {
      subscribed: () => check(session),
      event(frame) {
        if (result) return;
        const data = frame.data as { status?: string; progress?: number };
        if (frame.event === 'job.progress') {
          if (typeof data.status === 'string') state.status = data.status;
          if (typeof data.progress === 'number') state.progress = data.progress;
          show();
          if (data.status && TERMINAL.has(data.status)) check(session);
        } else if (frame.event === 'jobs.exchange.completed' || frame.event === 'jobs.exchange.failed') {
          check(session);
        }
      },
      state(s, detail) {
        if (s === 'reconnecting' && !ctx.json) {
          if (live) ctx.io.stderr.write('\r\x1b[K');
          ctx.say(`reconnecting: ${detail}`);
        }
      },
    },
  });
  show();
  try {
    await liveEnd(session);
    await reading;
  } finally {
    if (live) ctx.io.stderr.write('\n');
  }
  if (result) return result;
  if (ctx.io.signal.aborted) throw interrupted(jobId);
  throw failure ?? new CliError(`stopped following job ${jobId} before it ended`);
}
