// Property-based fuzz of what the api consumes besides REST: /ws client frames (ops derived from the
// contract's wsClientOp, mutated, and hostile text or binary), the Redis `ws:<channel>` messages its
// gateway forwards, and the NATS events its response cache follows. A frame is answered in order
// (or closes the socket with the documented code when it is over 64 KB); the socket stays open and
// answers a ping; nothing is written or published; the api is healthy and its reads right afterwards.
// Replay a failing run with FUZZ_SEED=<seed>.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';

import { WS_LIMITS, wsClientOp, wsServerFrame } from '@ratewire/contracts';
import { createLogger, createRedis, type RedisClient } from '@ratewire/runtime';
import {
  brokenJsonText,
  fc,
  fuzz,
  fuzzCases,
  fuzzSummary,
  hostileJsonValue,
  hostileString,
  jsonText,
  mutated,
  runs,
  withOddChars,
} from '@ratewire/testkit/fuzz';
import { arbitraryFor, type JsonSchema } from '@ratewire/testkit/json-schema-arbitrary';

import { startFuzzApi, type FuzzApi } from './fuzz-support.ts';

const WS_RUNS = runs(1500);
const REDIS_RUNS = runs(300);
const NATS_RUNS = runs(400);

let f: FuzzApi;
let redis: RedisClient;

beforeAll(async () => {
  f = await startFuzzApi();
  redis = createRedis(f.redis.url, createLogger('fuzz', 'silent'), 'fuzz-ws');
}, 120_000);

afterAll(async () => {
  if (fuzzCases()) process.stdout.write(`${fuzzSummary()}\n`);
  for (const s of sockets) s.ws.terminate();
  redis?.disconnect();
  await f?.close();
});

/** A /ws client keeping every frame as text (a forwarded frame need not be JSON), pacing its sends. */
class Socket {
  readonly ws: WebSocket;
  readonly texts: string[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly sent: number[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data: Buffer) => {
      this.texts.push(data.toString());
      this.notify();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
    this.ws.on('error', () => {});
  }

  static async open(url: string): Promise<Socket> {
    const s = new Socket(url);
    await new Promise<void>((resolve, reject) => {
      s.ws.once('open', () => resolve());
      s.ws.once('error', reject);
    });
    await s.until(() => s.texts.length > 0, 'welcome');
    return s;
  }

  /** Sends, staying under the server's 200 messages a second (a flood would close the socket). */
  async send(data: string | Buffer, binary = false): Promise<void> {
    const now = Date.now();
    while (this.sent.length && now - this.sent[0]! >= 1000) this.sent.shift();
    if (this.sent.length >= 150) await new Promise((r) => setTimeout(r, 1000 - (now - this.sent[0]!) + 5));
    this.sent.push(Date.now());
    await new Promise<void>((resolve, reject) =>
      this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve())),
    );
  }

  until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (check()) {
          clearTimeout(timer);
          this.waiters.delete(test);
          resolve();
        } else if (this.closed) {
          clearTimeout(timer);
          this.waiters.delete(test);
          reject(new Error(`socket closed (${this.closed.code} ${this.closed.reason}) waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`no ${what} within ${timeoutMs} ms; last frames: ${this.texts.slice(-5).join(' | ')}`));
      }, timeoutMs);
      this.waiters.add(test);
      test();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Sockets by how they signed in: none, ?token= of each kind, or an auth op. */
const KINDS = ['anonymous', 'user', 'admin', 'other', 'deleted', 'non-uuid', 'expired', 'garbage'] as const;
type Kind = (typeof KINDS)[number];
const sockets: Socket[] = [];

function tokenOf(kind: Kind): string | null {
  const t = f.tokens;
  const map: Record<Kind, string | null> = {
    anonymous: null,
    user: t.user.token,
    admin: t.admin.token,
    other: t.other.token,
    deleted: t.deleted,
    'non-uuid': t.nonUuidSub,
    expired: t.expired,
    garbage: 'x'.repeat(300),
  };
  return map[kind];
}

async function socketFor(index: number): Promise<Socket> {
  const current = sockets[index];
  if (current && !current.closed) return current;
  const token = tokenOf(KINDS[index]!);
  const s = await Socket.open(
    `${f.env.url.replace('http', 'ws')}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`,
  );
  // a ?token= is answered (authenticated, or an error) right after the welcome
  if (token) await s.until(() => s.texts.length >= 2, 'the answer to ?token=');
  sockets[index] = s;
  return s;
}

// ---- /ws client frames ------------------------------------------------------------------

interface WsCase {
  socket: number;
  frame: string | Buffer;
  binary: boolean;
}

function wsCase(): fc.Arbitrary<WsCase> {
  const t = f.tokens;
  const s = f.seeded;
  const channel = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        'currencies',
        'rates.cbr',
        'rates.binance',
        'rates.binance:BTCUSDT',
        'tasks',
        `jobs:${s.jobId}`,
        `jobs:${s.otherJobId}`,
      ),
    },
    { weight: 2, arbitrary: fc.uuid().map((id) => `jobs:${id}`) },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Z0-9]{2,30}$/).map((sym) => `rates.binance:${sym}`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('rates.binance:btcusdt', `jobs:${s.jobId.toUpperCase()}`, 'tasks:1', 'CURRENCIES', ''),
    },
    { weight: 2, arbitrary: hostileString },
  );
  const since = fc.oneof(
    fc.constantFrom('0-0', '1-0', `${Date.now()}-0`, `${Date.now() + 86_400_000}-0`, '18446744073709551615-0'),
    fc.constantFrom('99999999999999999999-99999999999999999999', '18446744073709551616-0', '0-18446744073709551616'),
    fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}-${b}`),
    withOddChars(fc.constant('1-0')),
  );
  const token = fc.oneof(
    fc.constantFrom(t.user.token, t.admin.token, t.deleted, t.nonUuidSub, t.nonUuidAdmin, t.expired, t.unsigned),
    fc.constantFrom('x', 'a'.repeat(4096), 'a'.repeat(4097)),
    hostileString,
  );
  const schema = z.toJSONSchema(wsClientOp) as JsonSchema;
  const op = arbitraryFor(schema, {
    resolve: () => {
      throw new Error('no references expected');
    },
    hints: { channel, since, token },
  });
  const valid = op.filter((v) => wsClientOp.safeParse(v).success);
  const text = fc.oneof(
    { weight: 6, arbitrary: valid.map(jsonText) },
    { weight: 6, arbitrary: mutated(valid).map(jsonText) },
    { weight: 2, arbitrary: hostileJsonValue.map(jsonText) },
    { weight: 2, arbitrary: brokenJsonText.filter((b): b is string => typeof b === 'string') },
    // past the 64 KB limit on a client frame: closed with 1009
    { weight: 1, arbitrary: fc.integer({ min: WS_LIMITS.maxFrameBytes + 1, max: 200_000 }).map((n) => 'x'.repeat(n)) },
  );
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({ socket: fc.nat(KINDS.length - 1), frame: text, binary: fc.constant(false) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        socket: fc.nat(KINDS.length - 1),
        frame: fc
          .oneof(
            brokenJsonText,
            valid.map((v) => Buffer.from(jsonText(v))),
          )
          .map((b) => Buffer.from(b)),
        binary: fc.constant(true),
      }),
    },
  );
}

const frameType = (text: string): string => {
  const parsed = wsServerFrame.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`a server frame outside the contract: ${text.slice(0, 300)}`);
  return parsed.data.type;
};

/** What a frame may be answered with (event and reset frames of a replay aside). */
function expectedAnswers(frame: string | Buffer, binary: boolean): { answers: number; types: string[] } {
  if (binary) return { answers: 1, types: ['error'] };
  let op: z.infer<typeof wsClientOp> | undefined;
  try {
    const parsed = wsClientOp.safeParse(JSON.parse(frame.toString()));
    op = parsed.success ? parsed.data : undefined;
  } catch {
    op = undefined;
  }
  switch (op?.op) {
    case undefined:
      return { answers: 1, types: ['error'] };
    case 'ping':
      return { answers: 1, types: ['pong'] };
    case 'unsubscribe':
      return { answers: 0, types: [] };
    case 'auth':
      return { answers: 1, types: ['authenticated', 'error'] };
    case 'subscribe':
      return { answers: 1, types: ['subscribed', 'error'] };
  }
}

async function checkWs(c: WsCase): Promise<void> {
  const socket = await socketFor(c.socket);
  const from = socket.texts.length;
  const describeIt = () =>
    `${KINDS[c.socket]} socket, ${c.binary ? 'binary' : 'text'} frame ${JSON.stringify(c.frame.toString().slice(0, 300))}`;
  await socket.send(c.frame, c.binary);
  if (Buffer.byteLength(c.frame) > WS_LIMITS.maxFrameBytes) {
    await socket.until(() => socket.closed !== null, 'the close of an oversized frame').catch(() => {});
    if (socket.closed?.code !== 1009)
      throw new Error(`${describeIt()}: closed with ${JSON.stringify(socket.closed)}, not 1009`);
    return;
  }
  await socket.send('{"op":"ping"}');
  const expected = expectedAnswers(c.frame, c.binary);
  const answers = () =>
    socket.texts
      .slice(from)
      .map(frameType)
      .filter((type) => type !== 'event' && type !== 'reset');
  // the op's answer, then the barrier's pong (answered in order)
  try {
    await socket.until(() => answers().length >= expected.answers + 1 && answers().at(-1) === 'pong', 'the pong');
  } catch (err) {
    throw new Error(`${describeIt()}: ${(err as Error).message}`);
  }
  const got = answers().slice(0, -1);
  if (got.length !== expected.answers || !got.every((type) => expected.types.includes(type))) {
    throw new Error(
      `${describeIt()}: answered ${JSON.stringify(socket.texts.slice(from))}, expected ${JSON.stringify(expected)}`,
    );
  }
}

// ---- Redis ws:<channel> messages --------------------------------------------------------

const FORWARDED = ['currencies', 'rates.cbr', 'rates.binance', 'tasks'] as const;

const redisMessage: fc.Arbitrary<RedisCase> = fc.record({
  channel: fc.constantFrom(...FORWARDED),
  payload: fc.oneof(
    // the notifier's own shape with hostile ids and tails
    fc
      .tuple(
        fc.oneof(fc.constantFrom('1-0', '0-0', '', '-', '99999999999999999999-1'), hostileString),
        hostileJsonValue,
      )
      .map(([id, data]) => ({ id, data })),
    hostileString.map((text) => ({ text })),
  ),
});

interface RedisCase {
  channel: string;
  payload: { id?: string; data?: unknown; text?: string };
}

async function checkRedis(m: RedisCase): Promise<void> {
  const text =
    m.payload.text ??
    `{"type":"event","channel":${JSON.stringify(m.channel)},"id":"${m.payload.id ?? ''}","event":"x","data":${jsonText(m.payload.data)},"ts":"t"}`;
  await redis.publish(`ws:${m.channel}`, text);
  const listener = await socketFor(0);
  const pongs = listener.texts.filter((x) => x === '{"type":"pong"}').length;
  await listener.send('{"op":"ping"}');
  await listener.until(() => listener.texts.filter((x) => x === '{"type":"pong"}').length > pongs, 'the pong');
}

// ---- NATS events the response cache follows --------------------------------------------

const CACHE_SUBJECTS = [
  'rates.cbr.updated',
  'rates.binance.updated',
  'currencies.created',
  'currencies.updated',
  'currencies.deleted',
] as const;

const natsMessage = fc.record({
  subject: fc.constantFrom(...CACHE_SUBJECTS),
  payload: fc.oneof(
    hostileJsonValue.map(jsonText),
    mutated(
      fc.record({
        id: fc.integer(),
        code: fc.constantFrom('USD', 'EUR', 'usd', ''),
        rate: fc.constantFrom('1', '1e308'),
        changed: fc.array(fc.record({ symbol: fc.constantFrom('BTCUSDT', 'x'), price: fc.constantFrom('1', '') })),
      }),
    ).map(jsonText),
    brokenJsonText,
  ),
});

async function checkNats(m: { subject: string; payload: string | Buffer }): Promise<void> {
  f.publisher.publish(m.subject, typeof m.payload === 'string' ? m.payload : new Uint8Array(m.payload));
  await f.publisher.flush();
  await f.env.deps.nats.flush();
  const rows = await f.env.database.db.selectFrom('currencies').select('id').execute();
  const list = await f.send({ method: 'GET', path: '/api/v1/currencies?limit=1000', headers: {} });
  if (list.status !== 200) throw new Error(`GET /api/v1/currencies answered ${list.status} after ${m.subject}`);
  const items = (JSON.parse(list.text) as { items: unknown[] }).items;
  if (items.length !== rows.length)
    throw new Error(`the cached list has ${items.length} rows, the table ${rows.length}`);
  const prices = await f.send({ method: 'GET', path: '/api/v1/rates/binance', headers: {} });
  if (prices.status !== 200) throw new Error(`GET /api/v1/rates/binance answered ${prices.status} after ${m.subject}`);
}

// ---- the properties -----------------------------------------------------------------------

describe('WebSocket and inbound-message fuzz', () => {
  it('/ws client frames: each answered in order, the socket open, nothing written', async () => {
    const mark = await f.writes.mark();
    const published = f.nats.messages.length;
    expect(await fuzz('/ws frames', wsCase(), checkWs, WS_RUNS)).toBe(WS_RUNS);
    expect(await f.writesSince(mark)).toEqual([]);
    await f.nats.settle(f.env.deps.nats);
    expect(f.nats.messages.slice(published)).toEqual([]);
  }, 300_000);

  it('Redis ws:<channel> messages: the gateway keeps answering', async () => {
    for (const channel of FORWARDED) {
      const listener = await socketFor(0);
      listener.texts.length = 0;
      await listener.send(JSON.stringify({ op: 'subscribe', channel }));
      await listener.until(
        () => listener.texts.some((x) => x.includes('"subscribed"') && x.includes(channel)),
        'subscribed',
      );
    }
    expect(await fuzz('redis ws:<channel>', redisMessage, checkRedis, REDIS_RUNS)).toBe(REDIS_RUNS);
  }, 300_000);

  it('NATS cache events: reads stay right, nothing written', async () => {
    const mark = await f.writes.mark();
    expect(await fuzz('nats cache events', natsMessage, checkNats, NATS_RUNS)).toBe(NATS_RUNS);
    expect(await f.writesSince(mark)).toEqual([]);
  }, 300_000);

  it('the api is healthy and a fresh socket works afterwards', async () => {
    const ready = await f.send({ method: 'GET', path: '/readyz', headers: {} });
    expect(ready.status).toBe(200);
    const s = await Socket.open(`${f.env.url.replace('http', 'ws')}/ws`);
    await s.send(JSON.stringify({ op: 'subscribe', channel: 'rates.binance:BTCUSDT' }));
    await s.until(() => s.texts.some((x) => x.includes('"subscribed"')), 'subscribed');
    s.ws.close();
    expect(fuzzCases()).toBe(WS_RUNS + REDIS_RUNS + NATS_RUNS);
  });
});
