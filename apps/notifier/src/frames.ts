// Turns a NATS message or a Redis `notifications` message into the socket frames it stands for:
// validated with the contracts, named after its channel. Pure: no I/O here.
import {
  SUBJECTS,
  alertTriggeredEvent,
  binanceUpdatedEvent,
  callbackEvent,
  cbrUpdatedEvent,
  currencyDeletedEvent,
  currencyEvent,
  inboundCurrencyUpdate,
  jobResultEvent,
  notificationMessage,
  outsideTaskMessage,
  taskEvent,
} from '@ratewire/contracts';
import { MAX_JSON_DEPTH, decodeMessage, type Decoded } from '@ratewire/runtime';
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
  SUBJECTS.alertsTriggered,
] as const;

/** Inbound JSON nests no deeper than MAX_JSON_DEPTH, whatever its numbers and its schema. */
const INBOUND = { maxDepth: MAX_JSON_DEPTH } as const;
/** Outside publishers write rates on currencies.updates as JSON numbers: read them exactly. */
const INBOUND_EXACT = { maxDepth: MAX_JSON_DEPTH, exactNumbers: true } as const;

function mapped<T>(decoded: Decoded<T>, build: (v: T) => FrameSpec[]): Mapped {
  return decoded.ok ? { ok: true, frames: build(decoded.value) } : { ok: false, reason: decoded.reason };
}

/** Frames for one NATS message; `ok: false` with the reason when it does not validate. */
export function framesForSubject(subject: string, text: string): Mapped {
  const decode = <T>(schema: z.ZodType<T>) =>
    decodeMessage(schema, text, subject === SUBJECTS.currenciesInbound ? INBOUND_EXACT : INBOUND);
  const one = (channel: string) => (data: unknown) => [{ channel, event: subject, data }];
  switch (subject) {
    case SUBJECTS.ratesCbrUpdated:
      return mapped(decode(cbrUpdatedEvent), one('rates.cbr'));
    case SUBJECTS.ratesBinanceUpdated:
      return mapped(decode(binanceUpdatedEvent), (e) => [
        { channel: 'rates.binance', event: subject, data: e },
        ...e.changed.map((entry) => ({ channel: `rates.binance:${entry.symbol}`, event: subject, data: entry })),
      ]);
    case SUBJECTS.currenciesCreated:
    case SUBJECTS.currenciesUpdated:
      return mapped(decode(currencyEvent), one('currencies'));
    case SUBJECTS.currenciesDeleted:
      return mapped(decode(currencyDeletedEvent), one('currencies'));
    case SUBJECTS.currenciesInbound:
      // rates within the decimal limits, forwarded as exact decimal strings; anything else is dropped
      return mapped(decode(inboundCurrencyUpdate), (e) => [
        { channel: 'currencies', event: subject, data: { event: e.event, rates: e.rates } },
      ]);
    case SUBJECTS.jobsCompleted:
    case SUBJECTS.jobsFailed:
      return mapped(decode(jobResultEvent), (e) => [{ channel: `jobs:${e.job_id}`, event: subject, data: e }]);
    case SUBJECTS.callbackDelivered:
    case SUBJECTS.callbackFailed:
      return mapped(decode(callbackEvent), (e) => [{ channel: `jobs:${e.job_id}`, event: subject, data: e }]);
    case SUBJECTS.alertsTriggered:
      // to the owner's channel, for alerts that name the ws channel; the others are announced on NATS only
      return mapped(decode(alertTriggeredEvent), (e) =>
        e.channels.includes('ws') ? [{ channel: `alerts:${e.user_id}`, event: subject, data: e }] : [],
      );
    default:
      if (subject.startsWith(`${SUBJECTS.tasksRatesRefresh}.`)) {
        return mapped(decode(taskEvent), one('tasks'));
      }
      return { ok: false, reason: `subject ${subject} is not bridged` };
  }
}

/**
 * The frames for one Redis `notifications` message: job progress → `jobs:<job_id>` (job.progress);
 * our own task progress → `tasks` as it is and `tasks:<task_id>`; a task message of an outside
 * worker (Celery, say) → `tasks:<task_id>` alone — both task.progress, the latter's data read by
 * `outsideTaskMessage` (status normalised, the word kept in status_text, big fields bounded).
 */
export function framesForNotification(text: string): Mapped {
  const own = decodeMessage(notificationMessage, text, INBOUND);
  if (own.ok && 'job_id' in own.value) {
    return { ok: true, frames: [{ channel: `jobs:${own.value.job_id}`, event: 'job.progress', data: own.value }] };
  }
  if (!own.ok && own.kind !== 'invalid') return { ok: false, reason: own.reason };
  const outside = decodeMessage(outsideTaskMessage, text, INBOUND);
  const followed: FrameSpec[] = outside.ok
    ? [{ channel: `tasks:${outside.value.task_id}`, event: 'task.progress', data: outside.value }]
    : [];
  if (own.ok) return { ok: true, frames: [{ channel: 'tasks', event: 'task.progress', data: own.value }, ...followed] };
  if (outside.ok) return { ok: true, frames: followed };
  return { ok: false, reason: /"job_id"/.test(text) ? own.reason : outside.reason };
}
