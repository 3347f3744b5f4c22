import { LiveSession } from '@ratewire/client/live-session';
import {
  alertEventList,
  alertList,
  alertSchema,
  alertTestAccepted,
  alertTriggeredEvent,
  createAlertBody,
  type AlertDto,
} from '@ratewire/contracts/alerts.schemas';
import { userSchema } from '@ratewire/contracts/auth.schemas';
import type { z } from 'zod';

import type { Action } from '../core/command.ts';
import { str } from '../core/options.ts';
import type { Ctx } from '../core/context.ts';
import { CliError, EXIT, usageError } from '../core/exit-codes.ts';
import { liveEnd } from '../live/live-errors.ts';
import { printable } from '../output/table.ts';

const WHOLE = /^\d+$/;
const path = (id: unknown) => `/api/v1/alerts/${encodeURIComponent(String(id))}`;

const LEVEL_FLAGS = [
  ['above', 'above'],
  ['below', 'below'],
  ['crossesAbove', 'crosses_above'],
  ['crossesBelow', 'crosses_below'],
] as const;

/** One short text for a condition: `above 65000`, `crosses below 2500`, `±5% in 1h`. */
export function conditionText(c: AlertDto['condition']): string {
  if (c.type === 'pct_change') {
    const sign = c.direction === 'up' ? '+' : c.direction === 'down' ? '-' : '±';
    return `${sign}${c.threshold_pct}% in ${c.window}`;
  }
  return `${c.type.replace('_', ' ')} ${c.level}`;
}

function condition(opts: Record<string, unknown>): Record<string, unknown> {
  const given = LEVEL_FLAGS.filter(([flag]) => opts[flag] !== undefined);
  const pct = str(opts['pctChange']);
  const count = given.length + (pct !== undefined ? 1 : 0);
  if (count !== 1)
    throw usageError(
      count === 0 ? 'no condition given' : 'more than one condition given',
      'give exactly one of --above, --below, --crosses-above, --crosses-below or --pct-change',
    );
  if (pct === undefined && (opts['window'] !== undefined || opts['direction'] !== undefined))
    throw usageError('--window and --direction go with --pct-change');
  if (pct !== undefined) {
    if (opts['window'] === undefined) throw usageError('--pct-change needs --window (1h or 24h)');
    return {
      type: 'pct_change',
      threshold_pct: pct,
      window: opts['window'],
      ...(opts['direction'] !== undefined ? { direction: opts['direction'] } : {}),
    };
  }
  const [flag, type] = given[0]!;
  return { type, level: str(opts[flag]) };
}

function record(ctx: Ctx, a: AlertDto): string {
  return ctx.record([
    ['id', a.id],
    ['source', a.source],
    ['symbol', a.symbol],
    ['condition', conditionText(a.condition)],
    ['frequency', a.frequency],
    ...(a.frequency === 'every_time'
      ? ([
          ['cooldown', `${a.cooldown_seconds} s`],
          ['rearm', `${a.rearm_pct}%`],
          ['armed', a.armed ? 'yes' : 'no'],
        ] as const)
      : []),
    ['channels', a.channels.join(',')],
    ['callback url', a.callback_url],
    ['status', a.status],
    ['expires', a.expires_at],
    ['fired', String(a.fired_count)],
    ['last fired', a.last_fired_at],
    ['created', a.created_at],
  ]);
}

export const add: Action = async (ctx, _args, opts) => {
  const cooldown = str(opts['cooldown']);
  if (cooldown !== undefined && !WHOLE.test(cooldown))
    throw usageError(`--cooldown ${JSON.stringify(cooldown)}: expected whole seconds`);
  const channels = (str(opts['channel']) ?? 'ws')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const body = {
    source: opts['source'],
    symbol: str(opts['symbol']),
    condition: condition(opts),
    ...(opts['frequency'] !== undefined ? { frequency: opts['frequency'] } : {}),
    ...(cooldown !== undefined ? { cooldown_seconds: Number(cooldown) } : {}),
    ...(opts['rearmPct'] !== undefined ? { rearm_pct: opts['rearmPct'] } : {}),
    ...(opts['expires'] !== undefined ? { expires_at: opts['expires'] } : {}),
    channels,
    ...(opts['callbackUrl'] !== undefined ? { callback_url: opts['callbackUrl'] } : {}),
  };
  const parsed = createAlertBody.safeParse(body);
  if (!parsed.success)
    throw usageError(
      parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; '),
    );
  const alert = await ctx.api().json(alertSchema, 'POST', '/api/v1/alerts', { body, auth: 'required' });
  if (!ctx.json) ctx.say(`Created alert ${alert.id}`);
  ctx.output(alert, () => record(ctx, alert));
};

export const list: Action = async (ctx, _args, opts) => {
  const query = { status: str(opts['status']), limit: str(opts['limit']), offset: str(opts['offset']) };
  if (opts['csv'] === true) {
    return ctx.printCsv('/api/v1/alerts', query, 'required');
  }
  const page = await ctx.api().json(alertList, 'GET', '/api/v1/alerts', { query, auth: 'required' });
  ctx.output(page, () => {
    if (page.items.length === 0) return query.status ? `No ${query.status} alerts.` : 'No alerts yet.';
    const shown = page.offset + page.items.length;
    const more = shown < page.total ? `\n${shown} of ${page.total} alerts; see more with --offset ${shown}` : '';
    return (
      ctx
        .table(page.items, [
          { header: 'ID', value: (a) => a.id },
          { header: 'SOURCE', value: (a) => a.source },
          { header: 'SYMBOL', value: (a) => a.symbol },
          { header: 'CONDITION', value: (a) => conditionText(a.condition) },
          { header: 'FREQUENCY', value: (a) => a.frequency },
          { header: 'STATUS', value: (a) => a.status },
          { header: 'FIRED', value: (a) => String(a.fired_count), align: 'right' },
        ])
        .trimEnd() + more
    );
  });
};

export const get: Action = async (ctx, [id]) => {
  const alert = await ctx.api().json(alertSchema, 'GET', path(id), { auth: 'required' });
  ctx.output(alert, () => record(ctx, alert));
};

export const rm: Action = async (ctx, [id]) => {
  await ctx.api().send('DELETE', path(id), { auth: 'required' });
  if (ctx.json) ctx.printJson({ id, deleted: true });
  else ctx.say(`Deleted alert ${String(id)}`);
};

const setStatus =
  (status: 'active' | 'paused'): Action =>
  async (ctx, [id]) => {
    const alert = await ctx.api().json(alertSchema, 'PATCH', path(id), { body: { status }, auth: 'required' });
    if (!ctx.json) ctx.say(`${status === 'paused' ? 'Paused' : 'Resumed'} alert ${alert.id}: ${alert.status}`);
    ctx.output(alert, () => record(ctx, alert));
  };
export const pause = setStatus('paused');
export const resume = setStatus('active');

export const test: Action = async (ctx, [id]) => {
  const out = await ctx.api().json(alertTestAccepted, 'POST', `${path(id)}/test`, { auth: 'required' });
  if (!ctx.json) ctx.say(`Test firing ${out.event_id} sent to alert ${out.alert_id}'s channels`);
  ctx.output(out, () => out.event_id);
};

export const events: Action = async (ctx, [id], opts) => {
  const query = { limit: str(opts['limit']), offset: str(opts['offset']) };
  if (opts['csv'] === true) {
    return ctx.printCsv(`${path(id)}/events`, query, 'required');
  }
  const page = await ctx.api().json(alertEventList, 'GET', `${path(id)}/events`, { query, auth: 'required' });
  ctx.output(page, () =>
    page.items.length === 0
      ? 'No firings yet.'
      : ctx
          .table(page.items, [
            { header: 'FIRED AT', value: (e) => e.created_at },
            { header: 'OBSERVED AT', value: (e) => e.observed.at },
            { header: 'VALUE', value: (e) => e.observed.value, align: 'right' },
            { header: 'PREVIOUS', value: (e) => e.observed.previous, align: 'right' },
            { header: 'CHANGE %', value: (e) => e.observed.change_pct, align: 'right' },
            { header: 'TEST', value: (e) => (e.test ? 'test' : '') },
          ])
          .trimEnd(),
  );
};

/** One line for a firing: time, alert, symbol, condition, the value observed (and the one before). */
export function firingLine(ts: string, e: z.infer<typeof alertTriggeredEvent>): string {
  const prev = e.observed.previous !== null ? ` previous ${e.observed.previous}` : '';
  const change = e.observed.change_pct !== undefined ? ` change ${e.observed.change_pct}%` : '';
  return printable(
    `${ts}  ${e.alert_id}  ${e.source} ${e.symbol} ${conditionText(e.condition)}: ${e.observed.value}${prev}${change}${e.test ? '  (test)' : ''}`,
  );
}

export const watch: Action = async (ctx, _args, opts) => {
  const maxText = str(opts['max']);
  if (maxText !== undefined && (!WHOLE.test(maxText) || maxText === '0'))
    throw usageError(`--max ${JSON.stringify(maxText)}: expected a whole number from 1`);
  const max = maxText === undefined ? Infinity : Number(maxText);
  const exitStatus = opts['exitStatus'] === true;
  const target = ctx.target();
  const me = await ctx.api().json(userSchema, 'GET', '/api/v1/auth/me', { auth: 'required' });
  const channel = `alerts:${me.id}`;
  let seen = 0;
  let fired = false;
  const session: LiveSession = new LiveSession({
    baseUrl: target.url,
    token: target.credential?.token,
    channels: [channel],
    signal: ctx.io.signal,
    handlers: {
      // said with --json too: it is a message on stderr, and tells a script the watch is live
      subscribed: () => ctx.say(`Watching ${channel} (Ctrl-C to stop)`),
      event(frame) {
        const parsed = alertTriggeredEvent.safeParse(frame.data);
        if (!parsed.success) return;
        if (ctx.json) ctx.print(JSON.stringify(parsed.data));
        else ctx.print(firingLine(frame.ts, parsed.data));
        seen++;
        if (exitStatus && !parsed.data.test) {
          fired = true;
          session.close();
        } else if (seen >= max) session.close();
      },
      state(s, detail) {
        if (s === 'reconnecting' && !ctx.json) ctx.say(`reconnecting: ${detail}`);
      },
      reset() {
        ctx.say(
          'some firings were missed (the channel’s history no longer reaches back): see `ratewire alerts events ID`',
        );
      },
    },
  });
  await liveEnd(session);
  if (fired) return EXIT.failed;
  if (ctx.io.signal.aborted && seen < max) throw new CliError('interrupted', EXIT.interrupted);
  return EXIT.ok;
};
