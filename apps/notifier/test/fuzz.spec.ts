// Property-based fuzz of everything the notifier consumes: each bridged NATS subject and Redis
// `notifications`, with messages of the contract's shape (from its zod schemas), mutated, and
// hostile (NUL, lone surrogates, 1e308, deep nesting, duplicate keys, wrong types, not JSON). The
// notifier runs as a real process over a Redis and a NATS of this file's own. A message the
// contract refuses must be dropped — no frame published, nothing added to any channel history —
// and one it accepts must give its frames; afterwards the process is alive, ready and still
// bridging. Replay a failing run with FUZZ_SEED=<seed>.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

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
  normaliseTaskStatus,
  outsideTaskMessage,
  taskEvent,
  taskProgressFrameData,
  wsEventFrame,
  wsRedis,
} from '@ratewire/contracts';
import {
  MAX_JSON_DEPTH,
  createLogger,
  createNats,
  createRedis,
  jsonDepth,
  type NatsConnection,
  type RedisClient,
} from '@ratewire/runtime';
import { spawnApp, type AppProcess } from '@ratewire/testkit';
import {
  brokenJsonText,
  fc,
  fuzz,
  fuzzCases,
  fuzzSummary,
  hostileJsonValue,
  hostileNumber,
  jsonText,
  mutated,
  runs,
} from '@ratewire/testkit/fuzz';
import { arbitraryFor, type JsonSchema } from '@ratewire/testkit/json-schema-arbitrary';
import { startPrivateNats, startPrivateRedis, type PrivateServer } from '@ratewire/testkit/private-servers';

const NATS_RUNS = runs(1200);
const REDIS_RUNS = runs(500);

const log = createLogger('notifier-fuzz', 'silent');
let redisServer: PrivateServer;
let natsServer: PrivateServer;
let notifier: AppProcess;
let healthUrl: string;
let nc: NatsConnection;
let redis: RedisClient;
let listener: RedisClient;
/** Every frame published on ws:<channel>, in order. */
const frames: { channel: string; text: string }[] = [];

beforeAll(async () => {
  [redisServer, natsServer] = await Promise.all([startPrivateRedis(), startPrivateNats()]);
  notifier = spawnApp('notifier', {
    REDIS_URL: redisServer.url,
    NATS_URL: natsServer.url,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
  });
  const started = await notifier.waitForLine(/"msg":"notifier started"/, 30_000);
  healthUrl = `http://127.0.0.1:${(JSON.parse(started) as { health: { port: number } }).health.port}`;
  nc = await createNats([natsServer.url], log, 'notifier-fuzz');
  redis = createRedis(redisServer.url, log, 'notifier-fuzz');
  listener = createRedis(redisServer.url, log, 'notifier-fuzz-listen');
  listener.on('pmessage', (_pattern: string, channel: string, text: string) =>
    frames.push({ channel: channel.slice('ws:'.length), text }),
  );
  await new Promise((r) => listener.once('ready', r));
  await listener.psubscribe('ws:*');
}, 60_000);

afterAll(async () => {
  if (fuzzCases()) process.stdout.write(`${fuzzSummary()}\n`);
  await nc?.drain().catch(() => {});
  redis?.disconnect();
  listener?.disconnect();
  if (notifier && notifier.child.exitCode === null) {
    notifier.child.kill('SIGTERM');
    await notifier.exited;
  }
  await redisServer?.close();
  await natsServer?.close();
});

// ---- what the contract says each message becomes ---------------------------------------------

const TASK_SUBJECTS = ['requested', 'queued', 'running', 'done', 'failed'].map(
  (s) => `${SUBJECTS.tasksRatesRefresh}.${s}`,
);

/** The contract of each bridged subject and the channels a valid message is framed on. */
const BRIDGED: { subjects: string[]; schema: z.ZodType; channels: (v: never) => string[] }[] = [
  { subjects: [SUBJECTS.ratesCbrUpdated], schema: cbrUpdatedEvent, channels: () => ['rates.cbr'] },
  {
    subjects: [SUBJECTS.ratesBinanceUpdated],
    schema: binanceUpdatedEvent,
    channels: (e: z.infer<typeof binanceUpdatedEvent>) => [
      'rates.binance',
      ...e.changed.map((c) => `rates.binance:${c.symbol}`),
    ],
  },
  {
    subjects: [SUBJECTS.currenciesCreated, SUBJECTS.currenciesUpdated],
    schema: currencyEvent,
    channels: () => ['currencies'],
  },
  { subjects: [SUBJECTS.currenciesDeleted], schema: currencyDeletedEvent, channels: () => ['currencies'] },
  { subjects: [SUBJECTS.currenciesInbound], schema: inboundCurrencyUpdate, channels: () => ['currencies'] },
  { subjects: TASK_SUBJECTS, schema: taskEvent, channels: () => ['tasks'] },
  {
    subjects: [SUBJECTS.jobsCompleted, SUBJECTS.jobsFailed],
    schema: jobResultEvent,
    channels: (e: z.infer<typeof jobResultEvent>) => [`jobs:${e.job_id}`],
  },
  {
    subjects: [SUBJECTS.callbackDelivered, SUBJECTS.callbackFailed],
    schema: callbackEvent,
    channels: (e: z.infer<typeof callbackEvent>) => [`jobs:${e.job_id}`],
  },
];

function expectedChannels(schema: z.ZodType, channels: (v: never) => string[], text: string): string[] {
  // the notifier refuses JSON nested deeper than its documented limit, whatever the schema says
  if (jsonDepth(text) > MAX_JSON_DEPTH) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? channels(parsed.data as never) : [];
}

// ---- arbitraries from the contracts ---------------------------------------------------------

const hints: Record<string, fc.Arbitrary<unknown>> = {
  value: fc.constantFrom('99.0134', '1', '0.0001', `${'9'.repeat(30)}.5`),
  unit_rate: fc.constantFrom('99.0134', '0.629542'),
  price: fc.constantFrom('97123.45', '0.00000001', '1'),
  previous: fc.constantFrom(null, '1.5'),
  rate: fc.constantFrom('75.5', '103.45'),
  total_rub: fc.constantFrom('3775.00', '0.01'),
  code: fc.constantFrom('USD', 'EUR', 'JPY', 'usd', 'US'),
  symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT', 'btcusdt', 'A'),
  date: fc.constantFrom('2025-01-10', '2025-02-30', '1992-07-01'),
  rates: fc.oneof(
    fc.dictionary(fc.constantFrom('USD', 'EUR', 'JPY'), fc.oneof(hostileNumber, fc.constantFrom('80.5', '1e3')), {
      minKeys: 1,
      maxKeys: 3,
    }),
    fc.constant({}),
  ),
  progress: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), hostileNumber),
};

/** Celery-style task messages of outside workers: the shapes they publish, and near misses. */
const celeryMeta = fc.oneof(
  fc.record({ current: fc.integer({ min: -2, max: 12 }), total: fc.integer({ min: -1, max: 10 }) }),
  fc.record({ progress: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), hostileNumber) }),
  fc.constant({ rows: 'x'.repeat(9000) }),
  fc.constant({ exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' }),
  fc.constant(null),
  hostileJsonValue,
);
const outsideHints: Record<string, fc.Arbitrary<unknown>> = {
  task_id: fc.oneof(
    fc.constantFrom(
      'celery-abc-123',
      'd9b1d7db-ec3c-4ae8-b8a5-1e7d2f3c4a5b',
      'App.Tasks:import_rates.42',
      'a'.repeat(200),
      'a'.repeat(201),
      '',
      'a b',
      'a/b',
      'tâche',
      'a\n',
    ),
    fc.stringMatching(/^[A-Za-z0-9._:-]{1,60}$/),
  ),
  status: fc.constantFrom(
    'PENDING',
    'RECEIVED',
    'STARTED',
    'PROGRESS',
    'RETRY',
    'SUCCESS',
    'FAILURE',
    'REVOKED',
    'in progress',
    'IN_PROGRESS',
    'done',
    'queued',
    'running',
    'warming up',
    '',
    '  ',
    's'.repeat(65),
    'do\u0000ne',
    'do\u0007ne',
    '\ud800',
  ),
  progress: fc.oneof(
    hints.progress!,
    fc.constantFrom('0.5', ' 1 ', '0', '1.5', '-0.1', 'NaN', 'Infinity', '', '50%', '2.5e-1', null),
  ),
  meta: celeryMeta,
  info: celeryMeta,
  result: celeryMeta,
  traceback: fc.constantFrom(null, 'Traceback (most recent call last):\nValueError: boom', 't'.repeat(10_000)),
  date_done: fc.constantFrom(null, '2026-11-24T10:00:00.123456+00:00', 'x'.repeat(200)),
};

function contractArbitrary(
  schema: z.ZodType,
  extraHints: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const documented = arbitraryFor(json, {
    resolve: () => {
      throw new Error('no references expected');
    },
    hints: { ...hints, ...extraHints },
  });
  const valid = documented.filter((v) => schema.safeParse(v).success);
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 4, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: mutated(documented) },
    { weight: 1, arbitrary: hostileJsonValue },
  );
}

const payload = (
  schema: z.ZodType,
  extraHints?: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<string | Buffer> =>
  fc.oneof(
    { weight: 9, arbitrary: contractArbitrary(schema, extraHints).map(jsonText) },
    { weight: 1, arbitrary: brokenJsonText },
  );

interface NatsCase {
  subject: string;
  payload: string | Buffer;
}

const natsCase: fc.Arbitrary<NatsCase> = fc.oneof(
  ...BRIDGED.map((b) => fc.record({ subject: fc.constantFrom(...b.subjects), payload: payload(b.schema) })),
  fc.record({
    // any other token under tasks.rates-refresh.* (printable, no spaces, dots or wildcards)
    subject: fc.stringMatching(/^[\w$%~-]{1,40}$/).map((token) => `${SUBJECTS.tasksRatesRefresh}.${token}`),
    payload: payload(taskEvent),
  }),
);

const redisCase: fc.Arbitrary<string | Buffer> = fc.oneof(
  payload(notificationMessage),
  payload(outsideTaskMessage, outsideHints),
);

// ---- barriers ---------------------------------------------------------------------------------

/**
 * Publishes a valid message after the case and waits for its frame: NATS delivers one
 * connection's messages in order, the notifier emits them in order on one Redis connection, so once
 * it is there every earlier frame is too.
 */
async function barrier(source: 'nats' | 'redis'): Promise<number> {
  const id = randomUUID();
  if (source === 'nats') {
    nc.publish(SUBJECTS.jobsCompleted, JSON.stringify({ job_id: id, request_id: 'barrier', status: 'done' }));
  } else {
    await redis.publish('notifications', JSON.stringify({ job_id: id, status: 'running' }));
  }
  const channel = `jobs:${id}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const at = frames.findIndex((f) => f.channel === channel);
    if (at >= 0) return at;
    if (Date.now() > deadline) throw new Error(`the notifier did not frame the ${source} barrier within 15 s`);
    if (notifier.child.exitCode !== null)
      throw new Error(`the notifier exited:\n${notifier.output.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function checkFrames(got: { channel: string; text: string }[], expected: string[], what: string): void {
  for (const frame of got) {
    const parsed = wsEventFrame.safeParse(JSON.parse(frame.text));
    if (!parsed.success || parsed.data.channel !== frame.channel) {
      throw new Error(`${what}: a frame outside the contract on ${frame.channel}: ${frame.text.slice(0, 300)}`);
    }
  }
  const channels = got.map((f) => f.channel);
  if (JSON.stringify(channels) !== JSON.stringify(expected)) {
    throw new Error(`${what}: framed on ${JSON.stringify(channels)}, expected ${JSON.stringify(expected)}`);
  }
}

const clip = (p: string | Buffer) => JSON.stringify(p.toString().slice(0, 300));

async function checkNats(c: NatsCase): Promise<void> {
  const from = frames.length;
  nc.publish(c.subject, typeof c.payload === 'string' ? c.payload : new Uint8Array(c.payload));
  const at = await barrier('nats');
  const bridged = BRIDGED.find((b) => b.subjects.includes(c.subject));
  const expected = bridged ? expectedChannels(bridged.schema, bridged.channels, c.payload.toString()) : [];
  // a task subject outside the known five still matches tasks.rates-refresh.* and is framed alike
  const task = !bridged && c.subject.startsWith(`${SUBJECTS.tasksRatesRefresh}.`);
  checkFrames(
    frames.slice(from, at),
    task ? expectedChannels(taskEvent, () => ['tasks'], c.payload.toString()) : expected,
    `${c.subject} ${clip(c.payload)}`,
  );
}

/** Identical notifications within two minutes collapse into one frame. */
const seenNotifications = new Set<string>();

async function checkRedis(p: string | Buffer): Promise<void> {
  const from = frames.length;
  await redis.publish('notifications', p);
  const at = await barrier('redis');
  const text = p.toString();
  const duplicate = seenNotifications.has(text);
  // a task message reaches tasks:<task_id> when it reads as an outside one (ours always does)
  const followed = expectedChannels(
    outsideTaskMessage,
    (m: z.infer<typeof outsideTaskMessage>) => [`tasks:${m.task_id}`],
    text,
  );
  const own = expectedChannels(
    notificationMessage,
    (m: z.infer<typeof notificationMessage>) => ('job_id' in m ? [`jobs:${m.job_id}`] : ['tasks', ...followed]),
    text,
  );
  const expected = own.length ? own : followed;
  if (expected.length) seenNotifications.add(text);
  const got = frames.slice(from, at);
  checkFrames(got, duplicate ? [] : expected, `notifications ${clip(p)}`);
  for (const frame of got.filter((f) => f.channel.startsWith('tasks:'))) checkTaskFrame(frame, clip(p));
}

/** A tasks:<task_id> frame: its data of the documented shape, for that id, bounded whatever was sent. */
function checkTaskFrame(frame: { channel: string; text: string }, what: string): void {
  const { data } = JSON.parse(frame.text) as { data: unknown };
  const parsed = taskProgressFrameData.safeParse(data);
  const fail = (why: string) => {
    throw new Error(`notifications ${what}: ${why}: ${frame.text.slice(0, 300)}`);
  };
  if (!parsed.success) fail('task frame data outside taskProgressFrameData');
  const task = parsed.data!;
  if (`tasks:${task.task_id}` !== frame.channel) fail('task frame on another task channel');
  if (task.status !== normaliseTaskStatus(task.status_text)) fail('status not the status_text normalised');
  if (Buffer.byteLength(frame.text) > 70_000) fail('task frame over 70 KB');
}

// ---- the properties ---------------------------------------------------------------------------

describe('notifier fuzz: every subject and Redis message it consumes', () => {
  it('NATS subjects: a refused message frames nothing, an accepted one its frames', async () => {
    expect(await fuzz('notifier nats', natsCase, checkNats, NATS_RUNS)).toBe(NATS_RUNS);
  }, 300_000);

  it('Redis notifications: a refused message frames nothing, an accepted one its frame', async () => {
    expect(await fuzz('notifier redis', redisCase, checkRedis, REDIS_RUNS)).toBe(REDIS_RUNS);
  }, 300_000);

  it('the notifier is alive, ready and bridging afterwards, with no error logged', async () => {
    expect(notifier.child.exitCode).toBeNull();
    const ready = await fetch(`${healthUrl}/readyz`);
    expect(ready.status).toBe(200);
    const from = frames.length;
    nc.publish(SUBJECTS.currenciesDeleted, JSON.stringify({ id: 7, code: 'CHF' }));
    const at = await barrier('nats');
    expect(frames.slice(from, at).map((f) => f.channel)).toEqual(['currencies']);
    // every history entry is a frame that was published (nothing refused reached a history)
    const published = new Set(frames.map((f) => `${f.channel} ${(JSON.parse(f.text) as { id: string }).id}`));
    const keys = await redis.keys(wsRedis.streamKey('*'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const channel = key.slice('ws:{'.length, -'}:stream'.length);
      for (const [id] of await redis.xrange(key, '-', '+')) expect(published.has(`${channel} ${id}`)).toBe(true);
    }
    expect(notifier.output.filter((l) => /"level":"(error|fatal)"|Uncaught|node:internal/.test(l))).toEqual([]);
    expect(fuzzCases()).toBe(NATS_RUNS + REDIS_RUNS);
  });
});
