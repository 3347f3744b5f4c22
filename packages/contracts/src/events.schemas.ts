// NATS subjects and payloads, and the Redis `notifications` message. Publishers build with these
// schemas and consumers validate with them: a message that does not parse is logged and dropped.
import { z } from 'zod';

import { ID_FORMS, binanceSymbol, currencyCode, decimalString, exactly, isoDate } from './common.schemas.ts';
import { positiveDecimalInput } from './decimal.schemas.ts';
import { text } from './text.schemas.ts';

export const SUBJECTS = {
  ratesCbrUpdated: 'rates.cbr.updated',
  ratesBinanceUpdated: 'rates.binance.updated',
  currenciesCreated: 'currencies.created',
  currenciesUpdated: 'currencies.updated',
  currenciesDeleted: 'currencies.deleted',
  currenciesInbound: 'currencies.updates',
  tasksRatesRefresh: 'tasks.rates-refresh', // .requested | .queued | .running | .done | .failed
  /** NATS request/reply served by any worker: fetch and store the CBR rates for one past day. */
  ratesCbrFetchDay: 'rates.cbr.fetch-day',
  jobsSubmit: 'jobs.exchange.submit',
  jobsCompleted: 'jobs.exchange.completed',
  jobsFailed: 'jobs.exchange.failed',
  callbackDelivered: 'jobs.exchange.callback.delivered',
  callbackFailed: 'jobs.exchange.callback.failed',
  alertsTriggered: 'alerts.triggered',
} as const;

export const REDIS_NOTIFICATIONS = 'notifications';

const cbrRateFields = {
  value: decimalString.meta({ description: 'Rubles for `nominal` units' }),
  nominal: z.number().int().positive(),
  unit_rate: decimalString.meta({ description: 'Rubles for one unit' }),
};

export const cbrUpdatedEvent = z.object({
  date: isoDate.meta({ description: 'Effective date of the rates (ValCurs@Date)' }),
  changed: z.array(
    z.object({
      code: currencyCode,
      ...cbrRateFields,
      previous: z.object(cbrRateFields).nullable(),
    }),
  ),
});

export const binanceUpdatedEvent = z.object({
  ts: z.string().meta({ description: 'ISO time of the snapshot' }),
  changed: z.array(z.object({ symbol: binanceSymbol, price: decimalString, previous: decimalString.nullable() })),
});

export const currencyEvent = z.object({
  id: z.number().int(),
  code: currencyCode,
  name: z.string().nullable(),
  nominal: z.number().int().positive(),
  rate: decimalString,
  unit_rate: decimalString,
  updated_at: z.string(),
  source: z.enum(['api', 'cbr']),
});

export const currencyDeletedEvent = z.object({ id: z.number().int(), code: currencyCode });

/**
 * Inbound from outside publishers on `currencies.updates`: validated and forwarded, never stored.
 * Rates are decimal inputs (parse the message with exact numbers): decimal strings after parsing.
 */
export const inboundCurrencyUpdate = z.object({
  event: z.literal('rates_update'),
  rates: z
    .record(
      z.string().regex(exactly(ID_FORMS.currencyCode), { message: 'keys are 3-letter currency codes' }),
      positiveDecimalInput,
    )
    .refine((r) => Object.keys(r).length > 0 && Object.keys(r).length <= 500, { message: '1 to 500 rates' }),
});

export const taskStatus = z.enum(['queued', 'running', 'done', 'failed']);
export const taskEvent = z.object({
  task_id: z.string().uuid(),
  status: taskStatus,
  detail: z.string().optional(),
});

export const cbrFetchDayRequest = z.object({ date: isoDate });
export const cbrFetchDayReply = z.union([
  z.object({ ok: z.literal(true), requested: isoDate, effective: isoDate.nullable() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/**
 * jobs.exchange.submit (JetStream stream JOBS, work queue): the job to run, published from the outbox
 * with Nats-Msg-Id = the job id; the job itself is in Postgres. The worker reads it with this schema.
 */
export const jobSubmitMessage = z.object({ job_id: z.string().uuid() });

export const jobStatus = z.enum(['queued', 'running', 'done', 'failed']);
export const jobResultEvent = z.object({
  job_id: z.string().uuid(),
  request_id: z.string(),
  status: jobStatus,
  total_rub: decimalString.optional(),
  error: z.string().optional(),
});
export const callbackEvent = z.object({
  job_id: z.string().uuid(),
  request_id: z.string(),
  webhook_id: z.string(),
  attempts: z.number().int(),
  status_code: z.number().int().nullable(),
  error: z.string().optional(),
});

/**
 * Redis pub/sub `notifications`: job and task progress as our own worker and api publish it (a task
 * message also reaches `tasks:<task_id>`, as `outsideTaskMessage` reads it).
 */
export const notificationMessage = z.union([
  z.object({
    job_id: z.string().uuid(),
    status: jobStatus,
    progress: z.number().min(0).max(1).optional(),
    detail: z.string().optional(),
  }),
  z.object({
    task_id: z.string().uuid(),
    status: taskStatus,
    progress: z.number().min(0).max(1).optional(),
    detail: z.string().optional(),
  }),
]);

// ---- task messages from outside workers (Celery and the like) on Redis `notifications` -------

/** An outside task id: a Celery UUID or any id of 1 to 200 of A-Z a-z 0-9 . _ : - (it names a channel). */
export const TASK_ID_FORM = '[A-Za-z0-9._:-]{1,200}';
/** detail and traceback longer than this are cut here (ending with …). */
export const TASK_TEXT_MAX = 4000;
/** result and meta whose JSON is larger than this are left out of the frame and named in `omitted`. */
export const TASK_JSON_MAX_BYTES = 8192;

/** The status a `tasks:<task_id>` frame carries: ours, or `unknown` for a word outside the table. */
export const taskProgressStatus = z
  .enum([...taskStatus.options, 'unknown'])
  .meta({ description: 'The published status word normalised (TASK_STATUS_WORDS); unknown for any other word' });

/**
 * Status words outside workers publish, normalised: case-insensitive, and spaces, underscores and
 * dashes alike (`IN_PROGRESS` = `in progress` = `in-progress`). Any other word is `unknown`.
 */
export const TASK_STATUS_WORDS: Readonly<Record<string, z.infer<typeof taskStatus>>> = Object.freeze({
  pending: 'queued',
  queued: 'queued',
  received: 'queued',
  scheduled: 'queued',
  waiting: 'queued',
  requested: 'queued',
  started: 'running',
  running: 'running',
  'in progress': 'running',
  progress: 'running',
  processing: 'running',
  retry: 'running',
  retrying: 'running',
  success: 'done',
  succeeded: 'done',
  done: 'done',
  completed: 'done',
  complete: 'done',
  finished: 'done',
  ok: 'done',
  failure: 'failed',
  failed: 'failed',
  error: 'failed',
  revoked: 'failed',
  rejected: 'failed',
  cancelled: 'failed',
  canceled: 'failed',
  aborted: 'failed',
});

/** A published status word → its normalised status (`unknown` when the table does not name it). */
export function normaliseTaskStatus(word: string): z.infer<typeof taskProgressStatus> {
  const key = word
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');
  return Object.hasOwn(TASK_STATUS_WORDS, key) ? TASK_STATUS_WORDS[key]! : 'unknown';
}

/** `text` cut to `max` UTF-16 units without splitting a surrogate pair, ending with … when cut. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Celery's custom-state meta: `{progress: 0..1}` or `{current, total}`; undefined when it says neither. */
function progressOfMeta(meta: unknown): number | undefined {
  if (!isRecord(meta)) return undefined;
  const { progress, current, total } = meta;
  if (typeof progress === 'number' && progress >= 0 && progress <= 1) return progress;
  if (typeof current === 'number' && typeof total === 'number' && total > 0 && current >= 0 && current <= total) {
    return current / total;
  }
  return undefined;
}

const utf8 = new TextEncoder();
/** Within TASK_JSON_MAX_BYTES as UTF-8 JSON (a length in UTF-16 units first: most values are far below it). */
const jsonFits = (v: unknown) => {
  const json = JSON.stringify(v);
  return json.length * 3 <= TASK_JSON_MAX_BYTES || utf8.encode(json).length <= TASK_JSON_MAX_BYTES;
};

const numericText = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const optionalText = (description: string) => z.string().nullish().meta({ description });

/**
 * A task message an outside worker publishes on Redis `notifications` as it is, e.g. Celery's
 * `{"task_id": "…", "status": "PROGRESS", "meta": {"current": 3, "total": 10}}`. Parsed into the
 * `data` of the `task.progress` frame on `tasks:<task_id>` (`taskProgressFrameData`); unknown keys
 * are left out. A message this refuses is dropped.
 */
export const outsideTaskMessage = z
  .object({
    task_id: z
      .string()
      .regex(exactly(TASK_ID_FORM), { message: 'expected a task id of 1 to 200 of A-Z a-z 0-9 . _ : -' })
      .meta({ description: 'Any id (a Celery UUID, say); the frame goes to channel tasks:<task_id>' }),
    status: text()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[^\p{Cc}]+$/u, { message: 'no control characters' })
      .meta({ description: 'A free word, up to 64 characters; the known ones are normalised (TASK_STATUS_WORDS)' }),
    progress: z
      .union([z.number(), z.string().trim().regex(numericText, { message: 'expected a number' }).transform(Number)])
      .pipe(z.number().min(0).max(1))
      .nullish()
      .meta({ description: 'From 0 to 1: a number or a numeric string ("0.5")' }),
    detail: optionalText(`Cut to ${TASK_TEXT_MAX} characters`),
    result: z
      .unknown()
      .optional()
      .meta({ description: `Celery's result (or exception); left out past ${TASK_JSON_MAX_BYTES} bytes` }),
    meta: z.unknown().optional().meta({
      description: "Celery's custom-state meta; {current, total} or {progress} give the progress when none is given",
    }),
    info: z.unknown().optional().meta({ description: 'Another name of meta (AsyncResult.info)' }),
    traceback: optionalText(`Cut to ${TASK_TEXT_MAX} characters`),
    date_done: optionalText('Cut to 64 characters'),
  })
  .transform((m) => {
    const status = normaliseTaskStatus(m.status);
    const omitted: ('result' | 'meta')[] = [];
    const meta = m.meta ?? m.info ?? undefined;
    // Celery keeps a custom state's meta as the result: it may carry the progress too
    const progress =
      m.progress ??
      progressOfMeta(meta) ??
      (status === 'done' || status === 'failed' ? undefined : progressOfMeta(m.result));
    let detail = m.detail ?? undefined;
    // a Celery failure's result is the exception: its type and message make the detail
    if (detail === undefined && status === 'failed' && isRecord(m.result) && typeof m.result.exc_type === 'string') {
      const message = m.result.exc_message;
      const words = Array.isArray(message) ? message : message == null ? [] : [message];
      const said = words.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))).join(', ');
      detail = said ? `${m.result.exc_type}: ${said}` : m.result.exc_type;
    }
    const data: TaskProgressFrameData = { task_id: m.task_id, status, status_text: m.status };
    if (progress !== undefined) data.progress = progress;
    if (detail !== undefined) data.detail = clip(detail, TASK_TEXT_MAX);
    if (m.result !== undefined) {
      if (jsonFits(m.result)) data.result = m.result;
      else omitted.push('result');
    }
    if (meta !== undefined) {
      if (jsonFits(meta)) data.meta = meta;
      else omitted.push('meta');
    }
    if (m.traceback != null) data.traceback = clip(m.traceback, TASK_TEXT_MAX);
    if (m.date_done != null) data.date_done = clip(m.date_done, 64);
    if (omitted.length) data.omitted = omitted;
    return data;
  });

/** The `data` of a `task.progress` frame on `tasks:<task_id>`: bounded, whatever was published. */
export const taskProgressFrameData = z
  .object({
    task_id: z.string().regex(exactly(TASK_ID_FORM)),
    status: taskProgressStatus,
    status_text: z.string().meta({ description: 'The status word as published (trimmed)' }),
    progress: z.number().min(0).max(1).optional(),
    detail: z.string().max(TASK_TEXT_MAX).optional(),
    result: z.unknown().optional(),
    meta: z.unknown().optional().meta({ description: 'meta, or info when meta was not given' }),
    traceback: z.string().max(TASK_TEXT_MAX).optional(),
    date_done: z.string().max(64).optional(),
    omitted: z
      .array(z.enum(['result', 'meta']))
      .optional()
      .meta({ description: `Fields left out for being over ${TASK_JSON_MAX_BYTES} bytes of JSON` }),
  })
  .meta({ description: 'A task.progress frame on tasks:<task_id>' });

export type TaskProgressFrameData = z.infer<typeof taskProgressFrameData>;
export type OutsideTaskMessage = z.input<typeof outsideTaskMessage>;

export type CbrUpdatedEvent = z.infer<typeof cbrUpdatedEvent>;
export type BinanceUpdatedEvent = z.infer<typeof binanceUpdatedEvent>;
export type CurrencyEvent = z.infer<typeof currencyEvent>;
export type CurrencyDeletedEvent = z.infer<typeof currencyDeletedEvent>;
export type InboundCurrencyUpdate = z.infer<typeof inboundCurrencyUpdate>;
export type TaskEvent = z.infer<typeof taskEvent>;
export type JobSubmitMessage = z.infer<typeof jobSubmitMessage>;
export type JobResultEvent = z.infer<typeof jobResultEvent>;
export type CallbackEvent = z.infer<typeof callbackEvent>;
export type NotificationMessage = z.infer<typeof notificationMessage>;
