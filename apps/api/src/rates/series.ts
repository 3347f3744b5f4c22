// The arithmetic of CBR series, on exact decimals and calendar days, pure and streaming: ISO weeks
// and calendar months over effective dates, forward fill over the days between publications,
// fluctuation over a range, and cross rates through RUB. Rows go in as the cursor gives them
// (oldest first) and come out as they complete, so a range of any length takes constant memory.
import { add, dec, div, roundFixed, type DecimalValue } from '@ratewire/money';

export type SeriesGroup = 'day' | 'week' | 'month';

const DAY_MS = 86_400_000;
const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (day: string, n: number) => dayOf(dayMs(day) + n * DAY_MS);

/**
 * The ISO week (Monday to Sunday) or the calendar month holding `day`. ISO weeks do not restart on
 * 1 January: a week that crosses New Year is one week (2024-12-30 … 2025-01-05).
 */
export function periodOf(day: string, group: 'week' | 'month'): { start: string; end: string } {
  if (group === 'week') {
    const ms = dayMs(day);
    const monday = ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY_MS;
    return { start: dayOf(monday), end: dayOf(monday + 6 * DAY_MS) };
  }
  const [y, m] = day.split('-').map(Number) as [number, number];
  return { start: `${day.slice(0, 7)}-01`, end: dayOf(Date.UTC(y, m, 0)) };
}

/** Digits after the decimal point as written: '92.5058' → 4, '1' → 0. */
export function scaleOf(v: string): number {
  const dot = v.indexOf('.');
  return dot < 0 ? 0 : v.length - dot - 1;
}

/** Places of a cross rate, the same as /convert's rate. */
export const CROSS_PLACES = 8;

/** `unit` expressed in a currency whose unit rate is `baseUnit` (both in rubles): half-up to 8 places. */
export function crossRate(unit: DecimalValue, baseUnit: DecimalValue): string {
  return roundFixed(div(unit, baseUnit), CROSS_PLACES);
}

/** One grouped point: the rates of the effective dates inside a week or a month. */
export interface GroupedPoint {
  period_start: string;
  period_end: string;
  open: string;
  high: string;
  low: string;
  close: string;
  /** Exact mean, half-up to the period's published precision (its longest value) + 4 places. */
  avg: string;
  count: number;
}

export const AVG_EXTRA_PLACES = 4;

/**
 * Folds dated values (oldest first) into week or month points; each point is handed to `emit` once
 * its period is over (and the last one at `finish`).
 */
export class PeriodFold {
  private current: {
    start: string;
    end: string;
    open: string;
    high: string;
    low: string;
    close: string;
    sum: ReturnType<typeof add>;
    scale: number;
    count: number;
  } | null = null;

  private readonly group: 'week' | 'month';

  constructor(group: 'week' | 'month') {
    this.group = group;
  }

  /** Adds one value; returns the point of the period it closes, if it closes one. */
  push(day: string, value: string): GroupedPoint | undefined {
    const c = this.current;
    if (c && day <= c.end) {
      c.close = value;
      if (dec(value).gt(c.high)) c.high = value;
      if (dec(value).lt(c.low)) c.low = value;
      c.sum = add(c.sum, value);
      c.scale = Math.max(c.scale, scaleOf(value));
      c.count += 1;
      return undefined;
    }
    const done = this.finish();
    const { start, end } = periodOf(day, this.group);
    this.current = {
      start,
      end,
      open: value,
      high: value,
      low: value,
      close: value,
      sum: add(value),
      scale: scaleOf(value),
      count: 1,
    };
    return done;
  }

  /** The open period's point (there is none before the first value or after finish). */
  finish(): GroupedPoint | undefined {
    const c = this.current;
    if (!c) return undefined;
    this.current = null;
    return {
      period_start: c.start,
      period_end: c.end,
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
      avg: roundFixed(div(c.sum, c.count), c.scale + AVG_EXTRA_PLACES),
      count: c.count,
    };
  }
}

/**
 * Forward fill: for each effective date (oldest first) the calendar days it stands for inside
 * [from, to], the first of them the date itself when it is in range. A day before the range's
 * first publication takes the publication in force on it (the cursor starts there). The days after
 * the last publication are filled only up to `tailUntil` (today: later days may yet get their own).
 */
export class ForwardFill<T> {
  private previous: { day: string; value: T } | null = null;
  private readonly from: string;
  private readonly to: string;
  private readonly tailUntil: string;

  constructor(from: string, to: string, tailUntil: string = to) {
    this.from = from;
    this.to = to;
    this.tailUntil = tailUntil < to ? tailUntil : to;
  }

  /** The days (and whether each is carried) that the publication of `day` opens, and closes the one before. */
  push(day: string, value: T): FilledDay<T>[] {
    const out = this.closePrevious(addDays(day, -1));
    if (day >= this.from && day <= this.to) out.push({ day, value, carried: false, effective: day });
    this.previous = { day, value };
    return out;
  }

  /** The days after the last publication, up to `tailUntil`. */
  finish(): FilledDay<T>[] {
    const out = this.closePrevious(this.tailUntil);
    this.previous = null;
    return out;
  }

  private closePrevious(last: string): FilledDay<T>[] {
    const out: FilledDay<T>[] = [];
    const p = this.previous;
    if (!p) return out;
    let day = addDays(p.day, 1) > this.from ? addDays(p.day, 1) : this.from;
    for (; day <= last && day <= this.to; day = addDays(day, 1)) {
      out.push({ day, value: p.value, carried: true, effective: p.day });
    }
    return out;
  }
}

export interface FilledDay<T> {
  day: string;
  value: T;
  carried: boolean;
  /** The publication the value comes from. */
  effective: string;
}

/** One currency's movement over a range (all decimal strings). */
export interface Fluctuation {
  start_rate: string;
  end_rate: string;
  change: string;
  /** change ÷ start_rate × 100, half-up to 4 places. */
  change_pct: string;
  min: string;
  max: string;
}

export const CHANGE_PCT_PLACES = 4;

/** '-0.0000' (a tiny fall rounded away) is written '0.0000'. */
const unsignedZero = (v: string) => (/^-0(\.0*)?$/.test(v) ? v.slice(1) : v);

/** Folds each currency's dated rates (oldest first) into its fluctuation. */
export class FluctuationFold {
  private readonly seen = new Map<string, { start: string; end: string; min: string; max: string }>();

  push(code: string, value: string): void {
    const s = this.seen.get(code);
    if (!s) {
      this.seen.set(code, { start: value, end: value, min: value, max: value });
      return;
    }
    s.end = value;
    if (dec(value).lt(s.min)) s.min = value;
    if (dec(value).gt(s.max)) s.max = value;
  }

  codes(): string[] {
    return [...this.seen.keys()].sort();
  }

  result(code: string): Fluctuation | undefined {
    const s = this.seen.get(code);
    if (!s) return undefined;
    const change = dec(s.end).sub(s.start);
    return {
      start_rate: s.start,
      end_rate: s.end,
      change: unsignedZero(change.toFixed()),
      change_pct: unsignedZero(roundFixed(div(change, s.start).mul(100), CHANGE_PCT_PLACES)),
      min: s.min,
      max: s.max,
    };
  }
}
