// The event catalogue: every NATS subject the platform publishes or accepts, the Redis channel
// progress comes in on, every WebSocket channel and the events its frames carry — each with the
// contract schema of its payload, an example that passes that schema, and a one-line summary of a
// payload. The AsyncAPI document (asyncapi.ts) is generated from it, and clients print events with
// `summariseEvent`. Pure: no I/O. Imports only the schema files it needs, for bundlers.
import type { z } from 'zod';

import { alertTriggeredEvent } from './alerts.schemas.ts';
import { alertCallbackBody, jobCallbackBody } from './callbacks.schemas.ts';
import { ID_FORMS, exactly } from './common.schemas.ts';
import {
  REDIS_NOTIFICATIONS,
  SUBJECTS,
  TASK_ID_FORM,
  binanceUpdatedEvent,
  callbackEvent,
  cbrFetchDayReply,
  cbrFetchDayRequest,
  cbrUpdatedEvent,
  currencyDeletedEvent,
  currencyEvent,
  inboundCurrencyUpdate,
  jobResultEvent,
  jobSubmitMessage,
  notificationMessage,
  outsideTaskMessage,
  taskEvent,
  taskProgressFrameData,
} from './events.schemas.ts';
import { wsClientOp, wsServerFrame } from './ws.schemas.ts';

/** One kind of message: its contract schema, an example that passes it, a one-line summary of a payload. */
export interface CatalogueMessage {
  /** A stable camelCase id: the message's key in the AsyncAPI document. */
  id: string;
  title: string;
  /** One line. */
  description: string;
  /** The contract schema the payload is validated with (never a copy of its shape). */
  schema: z.ZodType;
  /**
   * Which side of `schema` the JSON Schema of the payload describes: `input` for what the platform
   * accepts (a sender may write a JSON number where a decimal string is read), `output` for what it writes.
   */
  io: 'input' | 'output';
  /** As it travels (JSON): `schema` accepts it. */
  example: unknown;
  /** One line (no line breaks) about a payload `schema` parsed. */
  summary(this: void, payload: unknown): string;
}

/** A NATS subject (or the Redis pub/sub channel) and the message it carries. */
export interface SubjectEntry extends CatalogueMessage {
  transport: 'nats' | 'redis';
  /** The subject, `*` standing for one token (`tasks.rates-refresh.*`); for Redis, the channel. */
  subject: string;
  /** The `*` token's name and values, for a pattern. */
  token?: { name: string; values: readonly string[]; description: string };
  /** `out`: the platform publishes it for whoever listens; `in`: it accepts it from outside; `internal`: between its parts. */
  direction: 'out' | 'in' | 'internal';
  publishers: string;
  consumers: string;
  /** The JetStream stream that keeps it, if any. */
  stream?: string;
  /** A request/reply subject: what the reply carries. */
  reply?: CatalogueMessage;
  /** The WebSocket channels the notifier forwards it to (patterns, as in WsChannelEntry.channel). */
  channels: readonly string[];
}

/** One `event` a WebSocket channel's frames carry, and what their `data` is. */
export interface WsEventEntry extends CatalogueMessage {
  /** The frame's `event`: a NATS subject (a pattern for tasks.rates-refresh.*), or job.progress / task.progress. */
  event: string;
  /** Where it comes from: `nats:<subject>` or `redis:notifications`. */
  source: string;
}

/** A WebSocket channel (a kind of channel, for those with an id in their name). */
export interface WsChannelEntry {
  /** As the contract writes it: `rates.binance:<SYMBOL>`. */
  channel: string;
  /** The AsyncAPI address: `rates.binance:{symbol}`. */
  address: string;
  /** The parts of the name in braces in `address`. */
  parameters: Readonly<Record<string, { description: string; example: string }>>;
  /** One line. */
  description: string;
  /** Who may subscribe. */
  access: string;
  /** Followed by a socket that never subscribed (WS_DEFAULT_CHANNELS). */
  followedByDefault: boolean;
  /** Matches the names of this channel (the whole name). */
  pattern: RegExp;
  /** A channel name of this kind. */
  example: string;
  events: readonly WsEventEntry[];
}

/** The longest summary, and the longest JSON one-liner a payload that has none is printed as. */
export const SUMMARY_MAX = 160;

// ---- helpers --------------------------------------------------------------------------------

type MessageDef<S extends z.ZodType> = Omit<CatalogueMessage, 'schema' | 'example' | 'summary' | 'io'> & {
  schema: S;
  io?: 'input' | 'output';
  example: z.input<S>;
  summary(this: void, payload: z.output<S>): string;
};

/** A message whose example and summary are typed by its schema. */
function message<S extends z.ZodType>(def: MessageDef<S>): CatalogueMessage {
  return { ...def, io: def.io ?? 'output' };
}

type SubjectDef<S extends z.ZodType> = MessageDef<S> &
  Omit<SubjectEntry, keyof CatalogueMessage | 'transport' | 'channels'> & {
    transport?: SubjectEntry['transport'];
    channels?: readonly string[];
  };

function subject<S extends z.ZodType>(def: SubjectDef<S>): SubjectEntry {
  return { transport: 'nats', channels: [], ...def, io: def.io ?? 'output' };
}

/** The frames of a channel carry the subject's payload as it is. */
function forwarded(entry: SubjectEntry): WsEventEntry {
  const { id, title, description, schema, io, example, summary } = entry;
  return {
    id,
    title,
    description,
    schema,
    io,
    example,
    summary,
    event: entry.subject,
    source: `nats:${entry.subject}`,
  };
}

function wsEvent<S extends z.ZodType>(def: MessageDef<S> & { event: string; source: string }): WsEventEntry {
  return { ...message(def), event: def.event, source: def.source };
}

/** Line breaks and other control characters as spaces, cut to `max` (ending with …). */
function oneLine(text: string, max = SUMMARY_MAX): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  if (flat.length <= max) return flat;
  let end = max - 1;
  const last = flat.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${flat.slice(0, end)}…`;
}

const UUID_RE = exactly(ID_FORMS.uuid, 'i');
/** A UUID's first 8 characters (`1f6b2c3d…`); another id as it is (up to 40 characters). */
const shortId = (id: string) => (UUID_RE.test(id) ? `${id.slice(0, 8)}…` : oneLine(id, 40));
const more = (n: number) => (n > 0 ? ` (+${n} more)` : '');
const percent = (progress: number | undefined) =>
  progress === undefined ? '' : ` ${Math.round(progress * 100).toString()}%`;
const said = (text: string | null | undefined) => (text ? `: ${oneLine(text, 80)}` : '');
const perNominal = (nominal: number) => (nominal > 1 ? ` per ${nominal.toString()}` : '');
const plural = (n: number, word: string) => `${n.toString()} ${word}${n === 1 ? '' : 's'}`;
const signed = (pct: string) => (pct.startsWith('-') ? pct : `+${pct}`);

// ---- examples -------------------------------------------------------------------------------

const JOB_ID = '1f6b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const TASK_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const USER_ID = '5a2f8c1e-3b4d-4e6f-9a7b-8c9d0e1f2a3b';
const ALERT_ID = '3a4b5c6d-7e8f-4a9b-8c0d-1e2f3a4b5c6d';
const FIRING_ID = '9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const OUTSIDE_TASK_ID = 'celery-report-2026-12';

const binanceExample = {
  ts: '2026-12-01T09:30:00.000Z',
  changed: [
    { symbol: 'BTCUSDT', price: '97000.01', previous: '96990.50' },
    { symbol: 'ETHUSDT', price: '3650.42', previous: '3649.90' },
    { symbol: 'BNBUSDT', price: '712.30', previous: '711.80' },
    { symbol: 'SOLUSDT', price: '238.15', previous: null },
  ],
};

const currencyExample = {
  id: 12,
  code: 'USD',
  name: 'US Dollar',
  nominal: 1,
  rate: '80.1234',
  unit_rate: '80.1234',
  updated_at: '2026-12-01T09:00:02.417Z',
  source: 'cbr' as const,
};

// ---- summaries ------------------------------------------------------------------------------

function summariseCurrency(verb: string) {
  return (c: z.output<typeof currencyEvent>) =>
    `currency ${c.code} ${c.rate}${perNominal(c.nominal)} ${verb} (id ${c.id.toString()}, ${c.source})`;
}

function summariseTask(t: z.output<typeof taskEvent>) {
  return `task ${shortId(t.task_id)} ${t.status}${said(t.detail)}`;
}

function summariseJobResult(j: z.output<typeof jobResultEvent>) {
  const total = j.total_rub === undefined ? '' : ` total ${j.total_rub} RUB`;
  return `job ${shortId(j.job_id)} ${j.status}${total}${said(j.error)} (request ${oneLine(j.request_id, 40)})`;
}

function summariseCallback(state: 'delivered' | 'failed') {
  return (c: z.output<typeof callbackEvent>) => {
    const outcome = c.status_code === null ? 'no answer' : `HTTP ${c.status_code.toString()}`;
    return `job ${shortId(c.job_id)} callback ${state} (${outcome}, ${plural(c.attempts, 'attempt')})${said(c.error)}`;
  };
}

function summariseAlert(a: z.output<typeof alertCallbackBody>) {
  const condition =
    a.condition.type === 'pct_change'
      ? `pct_change ${a.condition.direction} ${a.condition.threshold_pct}% in ${a.condition.window}`
      : `${a.condition.type} ${a.condition.level}`;
  const change = a.observed.change_pct === undefined ? '' : ` ${signed(a.observed.change_pct)}%`;
  const previous = a.observed.previous === null ? '' : ` (was ${a.observed.previous})`;
  return (
    `alert ${shortId(a.alert_id)} ${a.source} ${a.symbol} ${condition}: ${a.observed.value}${change}${previous}` +
    (a.test ? ' [test]' : '')
  );
}

type OwnProgress = z.output<typeof notificationMessage>;
type OutsideProgress = z.output<typeof taskProgressFrameData>;

function summariseOwnProgress(p: OwnProgress) {
  const who = 'job_id' in p ? `job ${shortId(p.job_id)}` : `task ${shortId(p.task_id)}`;
  return `${who} ${p.status}${percent(p.progress)}${said(p.detail)}`;
}

function summariseOutsideProgress(p: OutsideProgress) {
  const word = p.status_text.toLowerCase() === p.status ? '' : ` (${oneLine(p.status_text, 40)})`;
  return `task ${shortId(p.task_id)} ${p.status}${word}${percent(p.progress)}${said(p.detail)}`;
}

// ---- NATS subjects and the Redis channel -----------------------------------------------------

const ratesCbrUpdated = subject({
  id: 'ratesCbrUpdated',
  subject: SUBJECTS.ratesCbrUpdated,
  title: 'CBR rates changed',
  description: 'The CBR rates of a day that changed since the last poll, each with its previous value.',
  direction: 'out',
  publishers: 'worker (the CBR poller leader)',
  consumers: 'notifier; api response caches; alert evaluation',
  channels: ['rates.cbr'],
  schema: cbrUpdatedEvent,
  example: {
    date: '2026-12-01',
    changed: [
      {
        code: 'USD',
        value: '80.1234',
        nominal: 1,
        unit_rate: '80.1234',
        previous: { value: '79.9876', nominal: 1, unit_rate: '79.9876' },
      },
      {
        code: 'JPY',
        value: '52.3456',
        nominal: 100,
        unit_rate: '0.523456',
        previous: { value: '52.1001', nominal: 100, unit_rate: '0.521001' },
      },
    ],
  },
  summary: (e) => {
    const [first] = e.changed;
    if (!first) return `CBR ${e.date}: no changes`;
    return `${first.code} ${first.value}${perNominal(first.nominal)} (${e.date})${more(e.changed.length - 1)}`;
  },
});

const ratesBinanceUpdated = subject({
  id: 'ratesBinanceUpdated',
  subject: SUBJECTS.ratesBinanceUpdated,
  title: 'Binance prices changed',
  description: 'The Binance symbols whose price changed in one snapshot (changed symbols only).',
  direction: 'out',
  publishers: 'worker (the Binance poller or stream leader)',
  consumers: 'notifier; api response caches; alert evaluation',
  channels: ['rates.binance', 'rates.binance:<SYMBOL>'],
  schema: binanceUpdatedEvent,
  example: binanceExample,
  summary: (e) => {
    const [first] = e.changed;
    if (!first) return 'Binance: no changes';
    return `${first.symbol} ${first.price}${more(e.changed.length - 1)}`;
  },
});

const currencyPublishers = 'api (REST writes) and worker (CBR poller)';

const currenciesCreated = subject({
  id: 'currenciesCreated',
  subject: SUBJECTS.currenciesCreated,
  title: 'Currency created',
  description: 'A currency was added (POST /api/v1/currencies, or a code CBR published for the first time).',
  direction: 'out',
  publishers: currencyPublishers,
  consumers: 'notifier; api response caches',
  channels: ['currencies'],
  schema: currencyEvent,
  example: { ...currencyExample, id: 41, code: 'AED', name: 'UAE Dirham', rate: '21.8155', unit_rate: '21.8155' },
  summary: summariseCurrency('created'),
});

const currenciesUpdated = subject({
  id: 'currenciesUpdated',
  subject: SUBJECTS.currenciesUpdated,
  title: 'Currency updated',
  description: "A currency's rate, name or nominal changed (PATCH, or a new CBR rate).",
  direction: 'out',
  publishers: currencyPublishers,
  consumers: 'notifier; api response caches',
  channels: ['currencies'],
  schema: currencyEvent,
  example: currencyExample,
  summary: summariseCurrency('updated'),
});

const currenciesDeleted = subject({
  id: 'currenciesDeleted',
  subject: SUBJECTS.currenciesDeleted,
  title: 'Currency deleted',
  description: 'A currency was deleted (DELETE /api/v1/currencies/{id}).',
  direction: 'out',
  publishers: 'api',
  consumers: 'notifier; api response caches',
  channels: ['currencies'],
  schema: currencyDeletedEvent,
  example: { id: 12, code: 'USD' },
  summary: (c) => `currency ${c.code} deleted (id ${c.id.toString()})`,
});

const summariseInbound = (e: z.output<typeof inboundCurrencyUpdate>) => {
  const rates = Object.entries(e.rates);
  const [first] = rates;
  return first ? `${e.event} ${first[0]} ${first[1]}${more(rates.length - 1)}` : e.event;
};

const currenciesInbound = subject({
  id: 'currenciesInbound',
  subject: SUBJECTS.currenciesInbound,
  title: 'Rates from an outside publisher',
  description:
    'Rates an outside publisher sends (numbers read exactly, or decimal strings): validated, logged and ' +
    'forwarded to channel currencies, never stored.',
  direction: 'in',
  publishers: 'outside publishers',
  consumers: 'notifier',
  channels: ['currencies'],
  schema: inboundCurrencyUpdate,
  io: 'input',
  example: { event: 'rates_update', rates: { USD: 80.1234, EUR: '92.5017' } },
  summary: summariseInbound,
});

const tasksRatesRefresh = subject({
  id: 'tasksRatesRefresh',
  subject: `${SUBJECTS.tasksRatesRefresh}.*`,
  token: {
    name: 'step',
    values: ['requested', 'queued', 'running', 'done', 'failed'],
    description: '`requested` (api → worker: look at the tasks table now), then the status the task reached',
  },
  title: 'Rates-refresh task',
  description: 'A rates refresh (POST /api/v1/tasks/rates-refresh) requested, and each status it reaches.',
  direction: 'internal',
  publishers: 'api (requested) and worker (the feed leader: the statuses)',
  consumers: 'worker (requested); notifier',
  channels: ['tasks'],
  schema: taskEvent,
  example: { task_id: TASK_ID, status: 'done', detail: 'cbr: 34 rates, binance: 2417 prices' },
  summary: summariseTask,
});

const ratesCbrFetchDay = subject({
  id: 'ratesCbrFetchDay',
  subject: SUBJECTS.ratesCbrFetchDay,
  title: 'Fetch the CBR rates of a past day',
  description: 'Request/reply: any worker fetches and stores the CBR rates of one past day the api has not stored.',
  direction: 'internal',
  publishers: 'api (GET /api/v1/rates/cbr/{date})',
  consumers: 'worker (queue group)',
  schema: cbrFetchDayRequest,
  example: { date: '2026-11-28' },
  summary: (r) => `fetch the CBR rates of ${r.date}`,
  reply: message({
    id: 'ratesCbrFetchDayReply',
    title: 'CBR day fetched',
    description: 'The effective date the rates were stored under (null: CBR has none for it), or the error.',
    schema: cbrFetchDayReply,
    example: { ok: true, requested: '2026-11-28', effective: '2026-11-27' },
    summary: (r) =>
      r.ok
        ? `CBR ${r.requested}: ${r.effective === null ? 'none published' : `effective ${r.effective}`}`
        : `CBR fetch failed${said(r.error)}`,
  }),
});

const jobsSubmit = subject({
  id: 'jobsSubmit',
  subject: SUBJECTS.jobsSubmit,
  title: 'Exchange job submitted',
  description: 'An accepted exchange job to run, from the outbox (Nats-Msg-Id = the job id); the job is in Postgres.',
  direction: 'internal',
  publishers: 'api (the outbox relay)',
  consumers: 'worker (JetStream consumer, work queue)',
  stream: 'JOBS',
  schema: jobSubmitMessage,
  example: { job_id: JOB_ID },
  summary: (m) => `job ${shortId(m.job_id)} submitted`,
});

const jobsCompleted = subject({
  id: 'jobsCompleted',
  subject: SUBJECTS.jobsCompleted,
  title: 'Exchange job done',
  description: 'An exchange job finished with its total in rubles (exact decimal).',
  direction: 'out',
  publishers: 'worker',
  consumers: 'notifier',
  channels: ['jobs:<job_id>'],
  schema: jobResultEvent,
  example: { job_id: JOB_ID, request_id: 'order-42', status: 'done', total_rub: '8305.00' },
  summary: summariseJobResult,
});

const jobsFailed = subject({
  id: 'jobsFailed',
  subject: SUBJECTS.jobsFailed,
  title: 'Exchange job failed',
  description: 'An exchange job that cannot be computed (no rate for its currency, say), with the reason.',
  direction: 'out',
  publishers: 'worker',
  consumers: 'notifier',
  channels: ['jobs:<job_id>'],
  schema: jobResultEvent,
  example: { job_id: JOB_ID, request_id: 'order-43', status: 'failed', error: 'no CBR rate for XYZ' },
  summary: summariseJobResult,
});

const callbackDelivered = subject({
  id: 'callbackDelivered',
  subject: SUBJECTS.callbackDelivered,
  title: 'Job callback delivered',
  description: "A job's result callback was answered 2xx.",
  direction: 'out',
  publishers: 'worker (callback delivery)',
  consumers: 'notifier',
  channels: ['jobs:<job_id>'],
  schema: callbackEvent,
  example: {
    job_id: JOB_ID,
    request_id: 'order-42',
    webhook_id: `msg_${JOB_ID}`,
    attempts: 1,
    status_code: 204,
  },
  summary: summariseCallback('delivered'),
});

const callbackFailed = subject({
  id: 'callbackFailed',
  subject: SUBJECTS.callbackFailed,
  title: 'Job callback given up',
  description: "A job's result callback failed every attempt; the job shows the callback state.",
  direction: 'out',
  publishers: 'worker (callback delivery)',
  consumers: 'notifier',
  channels: ['jobs:<job_id>'],
  schema: callbackEvent,
  example: {
    job_id: JOB_ID,
    request_id: 'order-42',
    webhook_id: `msg_${JOB_ID}`,
    attempts: 8,
    status_code: null,
    error: 'connect ECONNREFUSED 203.0.113.7:443',
  },
  summary: summariseCallback('failed'),
});

const alertsTriggered = subject({
  id: 'alertsTriggered',
  subject: SUBJECTS.alertsTriggered,
  title: 'Alert fired',
  description:
    "An alert's condition held for an observation (or POST /alerts/{id}/test); to alerts:<user_id> when it names ws.",
  direction: 'out',
  publishers: 'worker (alert evaluation) and api (test firings)',
  consumers: 'notifier',
  channels: ['alerts:<user_id>'],
  schema: alertTriggeredEvent,
  example: {
    type: 'alert.triggered',
    alert_id: ALERT_ID,
    event_id: FIRING_ID,
    user_id: USER_ID,
    test: false,
    source: 'binance',
    symbol: 'BTCUSDT',
    condition: { type: 'crosses_above', level: '97000' },
    observed: { value: '97000.01', previous: '96990.50', at: '2026-12-01T09:30:00.000Z' },
    channels: ['ws', 'email'],
  },
  summary: summariseAlert,
});

const redisNotifications = subject({
  id: 'redisNotifications',
  transport: 'redis',
  subject: REDIS_NOTIFICATIONS,
  title: 'Job and task progress',
  description:
    'Progress of our own jobs and tasks, and task messages outside workers (Celery, say) publish as they are: ' +
    'to jobs:<job_id>, tasks and tasks:<task_id>.',
  direction: 'in',
  publishers: 'api and worker; outside workers',
  consumers: 'notifier',
  channels: ['jobs:<job_id>', 'tasks', 'tasks:<task_id>'],
  schema: notificationMessage.or(outsideTaskMessage),
  io: 'input',
  example: { task_id: OUTSIDE_TASK_ID, status: 'PROGRESS', meta: { current: 3, total: 10 } },
  summary: (p) => ('status_text' in p ? summariseOutsideProgress(p) : summariseOwnProgress(p)),
});

/** Every NATS subject the platform publishes or accepts, then the Redis channel progress comes in on. */
export const SUBJECT_CATALOGUE: readonly SubjectEntry[] = [
  ratesCbrUpdated,
  ratesBinanceUpdated,
  currenciesCreated,
  currenciesUpdated,
  currenciesDeleted,
  currenciesInbound,
  tasksRatesRefresh,
  ratesCbrFetchDay,
  jobsSubmit,
  jobsCompleted,
  jobsFailed,
  callbackDelivered,
  callbackFailed,
  alertsTriggered,
  redisNotifications,
];

// ---- WebSocket channels ----------------------------------------------------------------------

const [jobProgressSchema, taskProgressSchema] = notificationMessage.options;
const binanceSymbolChange = binanceUpdatedEvent.shape.changed.element;

const fromNotifications = `redis:${REDIS_NOTIFICATIONS}`;

const jobProgress = wsEvent({
  id: 'jobProgress',
  event: 'job.progress',
  source: fromNotifications,
  title: 'Job progress',
  description: "A job's status and progress (0..1) as the worker runs it.",
  schema: jobProgressSchema,
  example: { job_id: JOB_ID, status: 'running', progress: 0.4 },
  summary: summariseOwnProgress,
});

export const WS_CHANNEL_CATALOGUE: readonly WsChannelEntry[] = [
  {
    channel: 'currencies',
    address: 'currencies',
    parameters: {},
    description: 'Currency writes (REST and CBR) and rates from outside publishers.',
    access: 'anyone',
    followedByDefault: true,
    pattern: exactly('currencies'),
    example: 'currencies',
    events: [
      forwarded(currenciesCreated),
      forwarded(currenciesUpdated),
      forwarded(currenciesDeleted),
      wsEvent({
        id: 'currenciesInboundForwarded',
        event: SUBJECTS.currenciesInbound,
        source: `nats:${SUBJECTS.currenciesInbound}`,
        title: 'Rates from an outside publisher, forwarded',
        description: 'What an outside publisher sent on currencies.updates, its rates as exact decimal strings.',
        schema: inboundCurrencyUpdate,
        example: { event: 'rates_update', rates: { USD: '80.1234', EUR: '92.5017' } },
        summary: summariseInbound,
      }),
    ],
  },
  {
    channel: 'rates.cbr',
    address: 'rates.cbr',
    parameters: {},
    description: 'CBR rate changes.',
    access: 'anyone',
    followedByDefault: true,
    pattern: exactly('rates\\.cbr'),
    example: 'rates.cbr',
    events: [forwarded(ratesCbrUpdated)],
  },
  {
    channel: 'rates.binance',
    address: 'rates.binance',
    parameters: {},
    description: 'Binance price changes, every changed symbol in one frame.',
    access: 'anyone',
    followedByDefault: false,
    pattern: exactly('rates\\.binance'),
    example: 'rates.binance',
    events: [forwarded(ratesBinanceUpdated)],
  },
  {
    channel: 'rates.binance:<SYMBOL>',
    address: 'rates.binance:{symbol}',
    parameters: { symbol: { description: 'A Binance symbol, upper case (A-Z 0-9, 2 to 30)', example: 'BTCUSDT' } },
    description: "One symbol's price changes: a frame per change, its data that symbol's entry alone.",
    access: 'anyone',
    followedByDefault: false,
    pattern: exactly(`rates\\.binance:${ID_FORMS.binanceSymbol}`),
    example: 'rates.binance:BTCUSDT',
    events: [
      wsEvent({
        id: 'ratesBinanceSymbolUpdated',
        event: SUBJECTS.ratesBinanceUpdated,
        source: `nats:${SUBJECTS.ratesBinanceUpdated}`,
        title: "A symbol's price changed",
        description: "The symbol's entry of rates.binance.updated: its price and the previous one.",
        schema: binanceSymbolChange,
        example: { symbol: 'BTCUSDT', price: '97000.01', previous: '96990.50' },
        summary: (c) => `${c.symbol} ${c.price}${c.previous === null ? '' : ` (was ${c.previous})`}`,
      }),
    ],
  },
  {
    channel: 'tasks',
    address: 'tasks',
    parameters: {},
    description: 'Our own rates-refresh tasks: each status on NATS, and progress.',
    access: 'anyone',
    followedByDefault: false,
    pattern: exactly('tasks'),
    example: 'tasks',
    events: [
      forwarded(tasksRatesRefresh),
      wsEvent({
        id: 'taskProgress',
        event: 'task.progress',
        source: fromNotifications,
        title: 'Task progress',
        description: "One of our tasks' status and progress (0..1).",
        schema: taskProgressSchema,
        example: { task_id: TASK_ID, status: 'running', progress: 0.5 },
        summary: summariseOwnProgress,
      }),
    ],
  },
  {
    channel: 'tasks:<task_id>',
    address: 'tasks:{task_id}',
    parameters: {
      task_id: { description: 'A task id: 1 to 200 of A-Z a-z 0-9 . _ : - (a UUID, a Celery id)', example: TASK_ID },
    },
    description: "One task's progress, ours or an outside worker's (status normalised, big fields bounded).",
    access: 'whoever knows the id',
    followedByDefault: false,
    pattern: exactly(`tasks:${TASK_ID_FORM}`),
    example: `tasks:${OUTSIDE_TASK_ID}`,
    events: [
      wsEvent({
        id: 'taskProgressFollowed',
        event: 'task.progress',
        source: fromNotifications,
        title: 'Task progress, by task id',
        description: 'The task message as read: the status normalised, the published word in status_text.',
        schema: taskProgressFrameData,
        example: {
          task_id: OUTSIDE_TASK_ID,
          status: 'running',
          status_text: 'PROGRESS',
          progress: 0.3,
          meta: { current: 3, total: 10 },
        },
        summary: summariseOutsideProgress,
      }),
    ],
  },
  {
    channel: 'jobs:<job_id>',
    address: 'jobs:{job_id}',
    parameters: { job_id: { description: 'An exchange job id (UUID, lower case)', example: JOB_ID } },
    description: "One exchange job: progress, its result, and its callback's outcome.",
    access: "the job's owner and admins",
    followedByDefault: false,
    pattern: exactly(`jobs:${ID_FORMS.uuid}`),
    example: `jobs:${JOB_ID}`,
    events: [
      jobProgress,
      forwarded(jobsCompleted),
      forwarded(jobsFailed),
      forwarded(callbackDelivered),
      forwarded(callbackFailed),
    ],
  },
  {
    channel: 'alerts:<user_id>',
    address: 'alerts:{user_id}',
    parameters: { user_id: { description: 'An account id (UUID, lower case)', example: USER_ID } },
    description: "An account's alert firings, for alerts that name the ws channel.",
    access: 'that account and admins',
    followedByDefault: false,
    pattern: exactly(`alerts:${ID_FORMS.uuid}`),
    example: `alerts:${USER_ID}`,
    events: [forwarded(alertsTriggered)],
  },
];

// ---- callbacks ------------------------------------------------------------------------------

/** A callback body Ratewire sends to a job's or an alert's address, and the type a receiver names it by. */
export interface CallbackEntry extends CatalogueMessage {
  /** `job.result` (a job's callback names none) or the body's own `type`. */
  type: string;
  method: 'PUT' | 'POST';
}

const callbackEntry = <S extends z.ZodType>(def: MessageDef<S> & Pick<CallbackEntry, 'type' | 'method'>) => ({
  ...message(def),
  type: def.type,
  method: def.method,
});

export const CALLBACK_CATALOGUE: readonly CallbackEntry[] = [
  callbackEntry({
    id: 'jobResultCallback',
    type: 'job.result',
    method: 'PUT',
    title: "An exchange job's result",
    description: "The job's breakdown, in the async exchange service's shape (subtotal_rub a JSON number, exact).",
    schema: jobCallbackBody,
    io: 'input',
    example: {
      request_id: 'order-42',
      breakdown: [
        { denomination_id: 1, subtotal_rub: 3775.5 },
        { denomination_id: 2, subtotal_rub: 4530.25 },
      ],
    },
    summary: (b) => {
      const [first] = b.breakdown;
      const line = first ? `: denomination ${first.denomination_id.toString()} ${first.subtotal_rub} RUB` : '';
      return `request ${oneLine(b.request_id, 40)}${line}${more(b.breakdown.length - 1)}`;
    },
  }),
  callbackEntry({
    id: 'alertTriggeredCallback',
    type: 'alert.triggered',
    method: 'POST',
    title: 'An alert fired',
    description: 'The firing as alerts.triggered tells it, without user_id and channels.',
    schema: alertCallbackBody,
    example: {
      type: 'alert.triggered',
      alert_id: ALERT_ID,
      event_id: FIRING_ID,
      test: false,
      source: 'binance',
      symbol: 'BTCUSDT',
      condition: { type: 'crosses_above', level: '97000' },
      observed: { value: '97000.01', previous: '96990.50', at: '2026-12-01T09:30:00.000Z' },
    },
    summary: summariseAlert,
  }),
];

// ---- the /ws protocol ------------------------------------------------------------------------

const [opSubscribe, opUnsubscribe, opAuth, opPing] = wsClientOp.options;
const [frameWelcome, frameSubscribed, frameAuthenticated, frameEvent, frameReset, frameError, framePong] =
  wsServerFrame.options;

/** What a client sends on /ws (wsClientOp), one message per op. */
export const WS_CLIENT_OPS: readonly CatalogueMessage[] = [
  message({
    id: 'wsSubscribe',
    title: 'subscribe',
    description: 'Follow a channel; with since, first replay what came after that frame id from its history.',
    schema: opSubscribe,
    io: 'input',
    example: { op: 'subscribe', channel: 'rates.binance:BTCUSDT', since: '1764581400000-0' },
    summary: (o) => `subscribe ${o.channel}${o.since === undefined ? '' : ` since ${o.since}`}`,
  }),
  message({
    id: 'wsUnsubscribe',
    title: 'unsubscribe',
    description: 'Stop following a channel.',
    schema: opUnsubscribe,
    io: 'input',
    example: { op: 'unsubscribe', channel: 'rates.binance:BTCUSDT' },
    summary: (o) => `unsubscribe ${o.channel}`,
  }),
  message({
    id: 'wsAuth',
    title: 'auth',
    description: 'Authenticate the socket with an access token or an API key (for jobs:<id> and alerts:<id>).',
    schema: opAuth,
    io: 'input',
    example: { op: 'auth', token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI1YTJmIn0.c2lnbmF0dXJl' },
    summary: () => 'auth',
  }),
  message({
    id: 'wsPing',
    title: 'ping',
    description: 'Ask for a pong.',
    schema: opPing,
    io: 'input',
    example: { op: 'ping' },
    summary: () => 'ping',
  }),
];

/** What the server sends on /ws (wsServerFrame), one message per frame type. */
export const WS_SERVER_FRAMES: readonly CatalogueMessage[] = [
  message({
    id: 'wsWelcome',
    title: 'welcome',
    description: 'Sent once the socket is open.',
    schema: frameWelcome,
    example: { type: 'welcome' },
    summary: () => 'welcome',
  }),
  message({
    id: 'wsSubscribed',
    title: 'subscribed',
    description: 'The channel is followed (after its replay, when since was given).',
    schema: frameSubscribed,
    example: { type: 'subscribed', channel: 'rates.binance:BTCUSDT' },
    summary: (f) => `subscribed ${f.channel}`,
  }),
  message({
    id: 'wsAuthenticated',
    title: 'authenticated',
    description: 'The token was accepted: the account the socket acts as.',
    schema: frameAuthenticated,
    example: { type: 'authenticated', user_id: USER_ID },
    summary: (f) => `authenticated as ${f.user_id}`,
  }),
  message({
    id: 'wsEvent',
    title: 'event',
    description:
      'An event on a followed channel: `event` names it (see each channel), `data` is its payload, `id` orders the channel.',
    schema: frameEvent,
    example: {
      type: 'event',
      channel: 'rates.binance:BTCUSDT',
      id: '1764581400000-0',
      event: SUBJECTS.ratesBinanceUpdated,
      data: { symbol: 'BTCUSDT', price: '97000.01', previous: '96990.50' },
      ts: '2026-12-01T09:30:00.012Z',
    },
    summary: (f) => `${f.channel} ${f.event} #${f.id}`,
  }),
  message({
    id: 'wsReset',
    title: 'reset',
    description: "After subscribed: since is older than the channel's history, frames were lost; reload the state.",
    schema: frameReset,
    example: { type: 'reset', channel: 'rates.cbr', reason: 'history_truncated' },
    summary: (f) => `reset ${f.channel} (${f.reason})`,
  }),
  message({
    id: 'wsError',
    title: 'error',
    description: 'A frame refused: bad_request, unauthorized, forbidden, unknown_channel or too_many.',
    schema: frameError,
    example: { type: 'error', code: 'forbidden', message: 'jobs:<job_id> is for its owner and admins' },
    summary: (f) => `error ${f.code}${said(f.message)}`,
  }),
  message({
    id: 'wsPong',
    title: 'pong',
    description: 'The answer to ping.',
    schema: framePong,
    example: { type: 'pong' },
    summary: () => 'pong',
  }),
];

// ---- look-ups --------------------------------------------------------------------------------

/** Whether a NATS subject matches a subject or pattern: `*` one token, `>` one or more at the end. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const got = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    const token = want[i];
    if (token === '>') return got.length > i;
    if (i >= got.length || (token !== '*' && token !== got[i])) return false;
  }
  return want.length === got.length;
}

/** The catalogue entry of a NATS subject (`tasks.rates-refresh.done` → `tasks.rates-refresh.*`), or of the Redis channel. */
export function catalogueEntryForSubject(
  subject: string,
  transport: SubjectEntry['transport'] = 'nats',
): SubjectEntry | undefined {
  return SUBJECT_CATALOGUE.find((e) => e.transport === transport && subjectMatches(e.subject, subject));
}

/** The entry of a WebSocket channel, by its name (`rates.binance:BTCUSDT`) or as the catalogue writes it. */
export function catalogueEntryForChannel(channel: string): WsChannelEntry | undefined {
  return WS_CHANNEL_CATALOGUE.find((e) => e.channel === channel || e.pattern.test(channel));
}

function eventsNamed(eventName: string, channel?: string): WsEventEntry[] {
  const channels =
    channel === undefined ? WS_CHANNEL_CATALOGUE : [catalogueEntryForChannel(channel)].filter((c) => !!c);
  return channels.flatMap((c) => c.events.filter((e) => subjectMatches(e.event, eventName)));
}

/**
 * The entry of a frame's `event` (`currencies.created`, `tasks.rates-refresh.done`, `job.progress`).
 * An event some channels carry with other data (rates.binance.updated, task.progress) gives the first
 * such channel's entry unless `channel` names the one the frame came on.
 */
export function catalogueEntryForEvent(eventName: string, channel?: string): WsEventEntry | undefined {
  return eventsNamed(eventName, channel)[0];
}

/** `value` as one line of JSON, cut to `max` characters (ending with …); never throws. */
export function compactJson(value: unknown, max = SUMMARY_MAX): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    try {
      text = String(value);
    } catch {
      text = '(unprintable)';
    }
  }
  return oneLine(text, max);
}

/**
 * One line about an event: a frame's `event` and `data` (give its `channel` where one event has
 * other data on other channels), or a NATS subject and its payload. The data is validated with the
 * entry's schema; unknown or invalid data is printed as compact JSON instead. Never throws.
 */
export function summariseEvent(eventName: string, data: unknown, channel?: string): string {
  const subjectEntry = catalogueEntryForSubject(eventName);
  const candidates: CatalogueMessage[] = [...eventsNamed(eventName, channel), ...(subjectEntry ? [subjectEntry] : [])];
  for (const entry of candidates) {
    try {
      const parsed = entry.schema.safeParse(data);
      if (!parsed.success) continue;
      const line = oneLine(entry.summary(parsed.data));
      if (line) return line;
    } catch {
      // a refinement or a summary that threw: try the next entry, then the JSON
    }
  }
  return compactJson(data);
}

/**
 * A callback body's type and one line about it: the first callback kind whose schema it fits, or
 * its own `type` (if any) and compact JSON. Never throws.
 */
export function summariseCallbackBody(body: unknown): { type: string | null; summary: string } {
  for (const entry of CALLBACK_CATALOGUE) {
    try {
      const parsed = entry.schema.safeParse(body);
      if (parsed.success) return { type: entry.type, summary: oneLine(entry.summary(parsed.data)) };
    } catch {
      // a summary that threw: try the next kind, then the JSON
    }
  }
  const own = (body as { type?: unknown } | null)?.type;
  return { type: typeof own === 'string' ? oneLine(own, 40) : null, summary: compactJson(body) };
}
