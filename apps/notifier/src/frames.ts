// Turns a NATS message or a Redis `notifications` message into the socket frames it stands for:
// validated with the contracts, named after its channel. Pure: no I/O here.
import {
  SUBJECTS,
  binanceUpdatedEvent,
  callbackEvent,
  cbrUpdatedEvent,
  currencyDeletedEvent,
  currencyEvent,
  inboundCurrencyUpdate,
  jobResultEvent,
  notificationMessage,
  taskEvent,
} from '@ratewire/contracts';
import { MAX_JSON_DEPTH, jsonDepth, parseJsonExact } from '@ratewire/core/json';
import type { z } from 'zod';

/** One frame to emit, before it gets its ordered id. */
export interface FrameSpec {
  channel: string;
  event: string;
  data: unknown;
}

export type Mapped = { ok: true; frames: FrameSpec[] } | { ok: false; reason: string };

/** The NATS subjects the notifier follows (queue group `notifier`). */
export const BRIDGED_SUBJECTS = [
  SUBJECTS.ratesCbrUpdated,
  SUBJECTS.ratesBinanceUpdated,
  SUBJECTS.currenciesCreated,
  SUBJECTS.currenciesUpdated,
  SUBJECTS.currenciesDeleted,
  SUBJECTS.currenciesInbound,
  `${SUBJECTS.tasksRatesRefresh}.*`,
  SUBJECTS.jobsCompleted,
  SUBJECTS.jobsFailed,
  SUBJECTS.callbackDelivered,
  SUBJECTS.callbackFailed,
] as const;

const describe = (error: z.ZodError) =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');

/** `exact`: numbers a double cannot hold stay their source text, for the decimal input schema. */
function parseJson(text: string, exact = false): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (jsonDepth(text) > MAX_JSON_DEPTH) return { ok: false, reason: `nested deeper than ${MAX_JSON_DEPTH}` };
  try {
    return { ok: true, value: exact ? parseJsonExact(text) : (JSON.parse(text) as unknown) };
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}

function validate<T>(schema: z.ZodType<T>, value: unknown, build: (v: T) => FrameSpec[]): Mapped {
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: describe(parsed.error) };
  return { ok: true, frames: build(parsed.data) };
}

/** Frames for one NATS message; `ok: false` with the reason when it does not validate. */
export function framesForSubject(subject: string, text: string): Mapped {
  // outside publishers write rates on currencies.updates as JSON numbers: read them exactly
  const json = parseJson(text, subject === SUBJECTS.currenciesInbound);
  if (!json.ok) return json;
  const one = (channel: string) => (data: unknown) => [{ channel, event: subject, data }];
  switch (subject) {
    case SUBJECTS.ratesCbrUpdated:
      return validate(cbrUpdatedEvent, json.value, one('rates.cbr'));
    case SUBJECTS.ratesBinanceUpdated:
      return validate(binanceUpdatedEvent, json.value, (e) => [
        { channel: 'rates.binance', event: subject, data: e },
        ...e.changed.map((entry) => ({ channel: `rates.binance:${entry.symbol}`, event: subject, data: entry })),
      ]);
    case SUBJECTS.currenciesCreated:
    case SUBJECTS.currenciesUpdated:
      return validate(currencyEvent, json.value, one('currencies'));
    case SUBJECTS.currenciesDeleted:
      return validate(currencyDeletedEvent, json.value, one('currencies'));
    case SUBJECTS.currenciesInbound:
      // rates within the decimal limits, forwarded as exact decimal strings; anything else is dropped
      return validate(inboundCurrencyUpdate, json.value, (e) => [
        { channel: 'currencies', event: subject, data: { event: e.event, rates: e.rates } },
      ]);
    case SUBJECTS.jobsCompleted:
    case SUBJECTS.jobsFailed:
      return validate(jobResultEvent, json.value, (e) => [{ channel: `jobs:${e.job_id}`, event: subject, data: e }]);
    case SUBJECTS.callbackDelivered:
    case SUBJECTS.callbackFailed:
      return validate(callbackEvent, json.value, (e) => [{ channel: `jobs:${e.job_id}`, event: subject, data: e }]);
    default:
      if (subject.startsWith(`${SUBJECTS.tasksRatesRefresh}.`)) {
        return validate(taskEvent, json.value, one('tasks'));
      }
      return { ok: false, reason: `subject ${subject} is not bridged` };
  }
}

/** The frame for one Redis `notifications` message (job or task progress). */
export function framesForNotification(text: string): Mapped {
  const json = parseJson(text);
  if (!json.ok) return json;
  return validate(notificationMessage, json.value, (m) =>
    'job_id' in m
      ? [{ channel: `jobs:${m.job_id}`, event: 'job.progress', data: m }]
      : [{ channel: 'tasks', event: 'task.progress', data: m }],
  );
}
