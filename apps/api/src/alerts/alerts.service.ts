// Rate alerts: create, read, change and delete them (the owner, or an admin), fire a test, list the
// firings. A Binance alert needs a symbol that trades, a CBR alert a code CBR publishes; an account
// holds at most ALERTS_MAX_ACTIVE_PER_USER active alerts. An above, below or pct_change alert that
// starts (or restarts) its evaluation is judged at once against the latest stored observation, so
// `above` fires while the rate is above the level from the moment it is created.
import {
  ALERT_WINDOWS,
  alertShapeIssues,
  type AlertDto,
  type AlertEventDto,
  type AlertStatus,
  type CreateAlertBody,
  type UpdateAlertBody,
} from '@ratewire/contracts';
import {
  alertFiringEvent,
  alertSubject,
  announceAlertFirings,
  commitAlertTick,
  deleteAlert,
  findAlert,
  insertAlertWithinLimit,
  insertTestFiring,
  listAlertEvents,
  listAlerts,
  updateAlert,
  type AlertChange,
  type AlertEventRow,
  type AlertRow,
  type AlertSubject,
  type Database,
  type StoredDelivery,
} from '@ratewire/db';
import { normalize } from '@ratewire/money';
import type { Logger, NatsConnection } from '@ratewire/runtime';

import { AppError, notFound } from '../http/app-error.ts';
import type { AuthUser } from '../http/request-context.ts';

type Condition = CreateAlertBody['condition'];
type Delivery = AlertEventDto['delivery']['nats'];

/** Conditions that are a state of the rate (not an event, as a crossing is): judged when they start. */
const LASTING = new Set<AlertRow['condition_type']>(['above', 'below', 'pct_change']);
const WINDOW_OF_SECONDS: Record<number, '1h' | '24h'> = { 3600: '1h', 86_400: '24h' };

export function toAlertDto(row: AlertRow): AlertDto {
  return {
    id: row.id,
    user_id: row.user_id,
    source: row.source,
    symbol: row.symbol,
    condition: conditionOf(row),
    frequency: row.frequency,
    cooldown_seconds: row.cooldown_seconds,
    rearm_pct: normalize(row.rearm_pct),
    expires_at: row.expires_at?.toISOString() ?? null,
    channels: row.channels as AlertDto['channels'],
    callback_url: row.callback_url,
    status: row.status,
    armed: row.armed,
    last_fired_at: row.last_fired_at?.toISOString() ?? null,
    fired_count: row.fired_count,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function conditionOf(row: AlertRow): AlertDto['condition'] {
  if (row.condition_type === 'pct_change') {
    return {
      type: 'pct_change',
      window: WINDOW_OF_SECONDS[row.window_seconds ?? 86_400] ?? '24h',
      threshold_pct: normalize(row.threshold_pct ?? '0'),
      direction: row.direction ?? 'both',
    };
  }
  return { type: row.condition_type, level: normalize(row.level ?? '0') };
}

/** The condition as the alerts table keeps it: a level, or a window, threshold and direction. */
function conditionColumns(
  c: Condition,
): Pick<AlertRow, 'condition_type' | 'level' | 'window_seconds' | 'threshold_pct' | 'direction'> {
  if (c.type === 'pct_change') {
    return {
      condition_type: 'pct_change',
      level: null,
      window_seconds: ALERT_WINDOWS[c.window],
      threshold_pct: normalize(c.threshold_pct),
      direction: c.direction,
    };
  }
  return {
    condition_type: c.type,
    level: normalize(c.level),
    window_seconds: null,
    threshold_pct: null,
    direction: null,
  };
}

/** A firing's delivery on each channel it went to, from the states stored for it. */
export function toAlertEventDto(row: AlertEventRow): AlertEventDto {
  const published: Delivery = row.published_at
    ? { status: 'sent', at: row.published_at.toISOString() }
    : { status: 'pending', at: null };
  const delivery: AlertEventDto['delivery'] = { nats: published };
  // the notifier turns the NATS announcement into the WS frame: the socket's state is the announcement's
  if (row.channels.includes('ws')) delivery.ws = { ...published };
  if (row.channels.includes('callback')) {
    delivery.callback = row.callback
      ? stored(row.callback, { delivered: 'sent' })
      : { status: 'skipped', error: 'no callback_url', at: null };
  }
  if (row.channels.includes('email')) {
    delivery.email = row.email
      ? stored(row.email, { sent: 'sent', discarded: 'skipped' })
      : { status: 'skipped', error: 'address not confirmed', at: null };
  }
  const { observed } = alertFiringEvent(row);
  return {
    id: row.event_id,
    alert_id: row.alert_id,
    test: row.test,
    observation: row.observation,
    observed,
    created_at: row.created_at.toISOString(),
    delivery,
  };
}

function stored(d: StoredDelivery, names: Record<string, Delivery['status']>): Delivery {
  const status = names[d.status] ?? (d.status === 'failed' ? 'failed' : 'pending');
  return {
    status,
    attempts: d.attempts,
    last_status: d.last_status,
    error: d.last_error,
    at: d.at?.toISOString() ?? null,
  };
}

const invalid = (errors: { path: string; message: string }[]) =>
  new AppError(422, 'validation_failed', 'the request is not valid', errors);

export interface AlertsServiceDeps {
  db: Database;
  nats: NatsConnection;
  log: Logger;
  /** ALERTS_MAX_ACTIVE_PER_USER */
  maxActivePerUser: number;
  /** The clock (expires_at checks); a parameter so tests can pin it. */
  now?: () => number;
}

export class AlertsService {
  private readonly db: Database;
  private readonly nats: NatsConnection;
  private readonly log: Logger;
  private readonly maxActive: number;
  private readonly now: () => number;

  constructor(deps: AlertsServiceDeps) {
    this.db = deps.db;
    this.nats = deps.nats;
    this.log = deps.log;
    this.maxActive = deps.maxActivePerUser;
    this.now = deps.now ?? Date.now;
  }

  async create(user: AuthUser, body: CreateAlertBody): Promise<AlertDto> {
    const subject = await this.followable(body.source, body.symbol);
    const row = await insertAlertWithinLimit(
      this.db,
      {
        user_id: user.id,
        source: body.source,
        symbol: body.symbol,
        ...conditionColumns(body.condition),
        frequency: body.frequency,
        cooldown_seconds: body.cooldown_seconds,
        rearm_pct: normalize(body.rearm_pct),
        expires_at: body.expires_at ?? null,
        channels: body.channels,
        callback_url: body.callback_url ?? null,
      },
      this.maxActive,
    );
    if (!row) throw this.limitReached();
    return toAlertDto(await this.evaluateNow(row, subject));
  }

  async list(
    user: AuthUser,
    q: { status?: AlertStatus | undefined; limit: number; offset: number },
  ): Promise<{ items: AlertDto[]; total: number; limit: number; offset: number }> {
    const page = await listAlerts(this.db, { userId: user.role === 'admin' ? null : user.id, ...q });
    return { items: page.items.map(toAlertDto), total: page.total, limit: q.limit, offset: q.offset };
  }

  async get(user: AuthUser, id: string): Promise<AlertDto> {
    return toAlertDto(await this.visible(user, id));
  }

  async update(user: AuthUser, id: string, body: UpdateAlertBody): Promise<AlertDto> {
    const current = await this.visible(user, id);
    const channels = body.channels ?? current.channels;
    const callbackUrl = body.callback_url === undefined ? current.callback_url : body.callback_url;
    const condition = body.condition ?? conditionOf(current);
    const issues = alertShapeIssues({
      source: current.source,
      symbol: current.symbol,
      condition,
      channels,
      callback_url: callbackUrl,
    }).map((i) => ({ path: ['body', ...i.path].join('.'), message: i.message }));
    const expiresAt = body.expires_at === undefined ? (current.expires_at?.toISOString() ?? null) : body.expires_at;
    if (body.status === 'active' && expiresAt !== null && Date.parse(expiresAt) <= this.now()) {
      issues.push({
        path: 'body.expires_at',
        message: 'the alert has expired: give a later expires_at (or null) to resume it',
      });
    }
    if (issues.length) throw invalid(issues);

    const change: AlertChange = {
      ...(body.condition ? conditionColumns(body.condition) : {}),
      ...(body.frequency !== undefined ? { frequency: body.frequency } : {}),
      ...(body.cooldown_seconds !== undefined ? { cooldown_seconds: body.cooldown_seconds } : {}),
      ...(body.rearm_pct !== undefined ? { rearm_pct: normalize(body.rearm_pct) } : {}),
      ...(body.expires_at !== undefined ? { expires_at: body.expires_at } : {}),
      ...(body.channels !== undefined ? { channels: body.channels } : {}),
      ...(body.callback_url !== undefined ? { callback_url: body.callback_url } : {}),
      ...(body.status !== undefined ? { status: body.status } : {}),
    };
    const row = await updateAlert(this.db, id, change, this.maxActive);
    if (row === 'limit') throw this.limitReached();
    if (!row) throw notFound('alert');
    // a new condition, frequency or rearm_pct, or a resume, starts the evaluation afresh: judged now
    const restarted =
      body.condition !== undefined ||
      body.frequency !== undefined ||
      body.rearm_pct !== undefined ||
      (body.status === 'active' && current.status !== 'active');
    return toAlertDto(restarted ? await this.evaluateNow(row) : row);
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    await this.visible(user, id);
    if (!(await deleteAlert(this.db, id))) throw notFound('alert');
  }

  /** A test firing, observed at the latest stored value (or the level without one), through every channel. */
  async test(user: AuthUser, id: string): Promise<{ event_id: string; alert_id: string }> {
    const alert = await this.visible(user, id);
    const { latest } = await alertSubject(this.db, alert.source, alert.symbol);
    const value = latest?.value ?? alert.level;
    if (value === null) {
      throw new AppError(
        409,
        'no_observation',
        `no ${alert.source === 'cbr' ? 'CBR rate' : 'price'} of ${alert.symbol} is stored yet to test with`,
      );
    }
    const row = await insertTestFiring(this.db, id, { value, previous: null });
    if (!row) throw notFound('alert');
    await this.announce([row]);
    return { event_id: row.event_id, alert_id: row.alert_id };
  }

  async events(
    user: AuthUser,
    id: string,
    q: { limit: number; offset: number },
  ): Promise<{ items: AlertEventDto[]; limit: number; offset: number }> {
    await this.visible(user, id);
    const rows = await listAlertEvents(this.db, { alertId: id, ...q });
    return { items: rows.map(toAlertEventDto), limit: q.limit, offset: q.offset };
  }

  /** The alert if the caller may see it: its owner or an admin. Anyone else is told it does not exist. */
  private async visible(user: AuthUser, id: string): Promise<AlertRow> {
    const row = await findAlert(this.db, id);
    if (!row || (row.user_id !== user.id && user.role !== 'admin')) throw notFound('alert');
    return row;
  }

  /** The symbol's latest observation, when an alert may follow it: a Binance symbol that trades, a code CBR publishes. */
  private async followable(source: 'binance' | 'cbr', symbol: string): Promise<AlertSubject> {
    const subject = await alertSubject(this.db, source, symbol);
    let message: string | undefined;
    if (source === 'binance') {
      if (subject.status === null) message = `unknown Binance symbol ${symbol}`;
      else if (subject.status !== 'TRADING')
        message = `Binance symbol ${symbol} does not trade (status ${subject.status})`;
    } else if (subject.status === null) {
      message = `CBR publishes no rate for ${symbol}`;
    }
    if (message) throw new AppError(422, 'unknown_symbol', message, [{ path: 'body.symbol', message }]);
    return subject;
  }

  /**
   * Judges an active above/below/pct_change alert once against the latest stored observation (and
   * its references a window before), announces what fired, and answers the alert as it is after. A
   * crossing is an event, not a state: it waits for the next rate change.
   */
  private async evaluateNow(row: AlertRow, known?: AlertSubject): Promise<AlertRow> {
    if (row.status !== 'active' || !LASTING.has(row.condition_type)) return row;
    const { latest } = known ?? (await alertSubject(this.db, row.source, row.symbol));
    if (!latest) return row;
    // the tick reads the value at `at` (and the one before) from the stored rates; pct_change's
    // references serve this alert and the symbol's waiting ones, which the tick adds
    const { at, reference1h, reference24h } = latest;
    const result = await commitAlertTick(this.db, {
      source: row.source,
      observations: [{ symbol: row.symbol, at, reference1h, reference24h }],
      candidates: [row.id],
    });
    await this.announce(result.fired);
    if (!result.fired.some((f) => f.alert_id === row.id)) return row;
    return (await findAlert(this.db, row.id)) ?? row;
  }

  private announce(rows: Parameters<typeof announceAlertFirings>[1]): Promise<void> {
    return announceAlertFirings({ db: this.db, publish: (s, d) => this.nats.publish(s, d), log: this.log }, rows);
  }

  private limitReached(): AppError {
    return new AppError(
      409,
      'alert_limit',
      `an account may hold at most ${this.maxActive} active alerts; pause or delete one first`,
    );
  }
}
