// A local stand-in for wss://stream.binance.com: it speaks the combined-stream format of Binance's
// documentation (`/stream?streams=!miniTicker@arr`, frames `{"stream":…,"data":[…]}`), built from
// the documented example frame in packages/testkit/fixtures/binance/stream (see its README.md), and
// lets a test send frames, pings, serverShutdown, silence and closes. Plus the rig the stream specs
// share: a database of their own, the replay server for REST, the real NATS, and a captured log.
import type { AddressInfo } from 'node:net';

import { WebSocketServer, type WebSocket } from 'ws';

import { SUBJECTS, binanceUpdatedEvent, type BinanceUpdatedEvent } from '@ratewire/contracts';
import type { NatsConnection } from '@ratewire/runtime';
import { createLogger } from '@ratewire/runtime';
import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';
import { readFixture } from '@ratewire/testkit/replay/fixtures';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

import { BinanceClient } from '../src/binance/binance.client.ts';
import { BinanceService } from '../src/binance/binance.service.ts';
import { BinanceStream, type BinanceStreamOptions } from '../src/binance/binance.stream.ts';
import { FeedPoller } from '../src/feeds/feed-poller.ts';
import { collect, connectNats, type Collector } from './support.ts';

export const STREAM_PATH = '/stream?streams=!miniTicker@arr';
export const PRICE_PATH = '/api/v3/ticker/price';

/** The documented frame (Binance's own example), and its one entry as the template of ours. */
export const DOCS_FRAME = readFixture('binance/stream/miniTicker_arr_docs.json').toString('utf8').trim();
export const DOCS_SHUTDOWN = readFixture('binance/stream/serverShutdown_docs.json').toString('utf8').trim();
const DOCS_ENTRY = (JSON.parse(DOCS_FRAME) as { data: Record<string, unknown>[] }).data[0]!;

/** A `!miniTicker@arr` frame as Binance sends it: the documented entry with our symbol, close and time. */
export function miniTickerFrame(eventTime: number, prices: Record<string, string>): string {
  return JSON.stringify({
    stream: '!miniTicker@arr',
    data: Object.entries(prices).map(([s, c]) => ({ ...DOCS_ENTRY, E: eventTime, s, c })),
  });
}

export interface ServerConnection {
  id: number;
  ws: WebSocket;
  url: string;
  closed: boolean;
  /** Payloads of the pongs received. */
  pongs: Buffer[];
}

export interface StreamServer {
  /** Origin, e.g. `ws://127.0.0.1:41234`: BINANCE_WS_URL. */
  url: string;
  /** Every connection accepted, in order. */
  connections: ServerConnection[];
  open(): ServerConnection[];
  /** Sends a text (or binary) frame to `to` (default: every open connection). */
  send(frame: string | Buffer, to?: ServerConnection[], binary?: boolean): void;
  /** Sends a `!miniTicker@arr` frame; remembered as the frame the heartbeat repeats. */
  tickers(eventTime: number, prices: Record<string, string>, to?: ServerConnection[]): void;
  /** Re-sends the last ticker frame every `ms` (0: stop). Repeats are the client's to drop. */
  heartbeat(ms: number): void;
  /** While true, new connections are refused (HTTP 503). */
  refuse(on: boolean): void;
  waitForConnection(n: number): Promise<ServerConnection>;
  close(): Promise<void>;
}

export async function startStreamServer(): Promise<StreamServer> {
  const connections: ServerConnection[] = [];
  let refusing = false;
  let last: string | undefined;
  let beat: NodeJS.Timeout | undefined;
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, cb) => {
      if (refusing) return cb(false, 503, 'Service Unavailable');
      // Binance answers an unknown stream with an error; only ours is served
      if (info.req.url !== STREAM_PATH) return cb(false, 400, 'Invalid request');
      cb(true);
    },
  });
  wss.on('connection', (ws, req) => {
    const conn: ServerConnection = { id: connections.length + 1, ws, url: req.url ?? '', closed: false, pongs: [] };
    connections.push(conn);
    ws.on('pong', (data) => conn.pongs.push(Buffer.from(data)));
    ws.on('close', () => {
      conn.closed = true;
    });
    ws.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  const open = () => connections.filter((c) => !c.closed && c.ws.readyState === c.ws.OPEN);
  const send = (frame: string | Buffer, to = open(), binary = false) => {
    for (const c of to) if (!c.closed && c.ws.readyState === c.ws.OPEN) c.ws.send(frame, { binary });
  };
  return {
    url: `ws://127.0.0.1:${port}`,
    connections,
    open,
    send,
    tickers(eventTime, prices, to) {
      last = miniTickerFrame(eventTime, prices);
      send(last, to);
    },
    heartbeat(ms) {
      clearInterval(beat);
      beat = ms > 0 ? setInterval(() => last && send(last), ms) : undefined;
    },
    refuse(on) {
      refusing = on;
    },
    waitForConnection(n) {
      return waitFor(() => connections[n - 1], { what: `stream connection #${n}` });
    },
    async close() {
      clearInterval(beat);
      for (const c of connections) c.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Log lines captured from a real logger (warn and up unless told). */
export function captureLog(level = 'warn') {
  const lines: { level: string; msg: string; [k: string]: unknown }[] = [];
  const log = createLogger('worker-test', level, {
    write: (line: string) => {
      lines.push(JSON.parse(line) as (typeof lines)[number]);
    },
  });
  return { log, lines };
}

export interface StreamRig {
  database: TestDatabase;
  replay: ReplayServer;
  server: StreamServer;
  nats: NatsConnection;
  poller: FeedPoller;
  stream: BinanceStream;
  lines: ReturnType<typeof captureLog>['lines'];
  /** rates.binance.updated messages naming this rig's symbols. */
  events: Collector<BinanceUpdatedEvent>;
  /** Serves this ticker/price answer from now on. */
  snapshot(prices: Record<string, string>): void;
  prices(): Promise<Record<string, string>>;
  /** Every price a symbol had in history, oldest first (by observed time). */
  history(symbol: string): Promise<string[]>;
  /** Every (symbol, price) the events announced, in order. */
  announced(): Promise<[string, string][]>;
  /** How many ticker/price requests the replay server has had. */
  restPolls(): number;
  close(): Promise<void>;
}

/** Symbols of one rig, unlike any other suite's (they share NATS): `<tag><n>USDT`. */
export function rigSymbols(n: number): string[] {
  const tag = `Z${Math.random()
    .toString(36)
    .slice(2, 8)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, 'Q')}`;
  return Array.from({ length: n }, (_, i) => `${tag}${String.fromCharCode(65 + i)}USDT`);
}

export async function startStreamRig(
  symbols: string[],
  options: Partial<Omit<BinanceStreamOptions, 'service' | 'poller' | 'db' | 'log' | 'wsUrl'>> & {
    pollIntervalMs?: number;
  } = {},
): Promise<StreamRig> {
  const [database, replay, server, nats] = await Promise.all([
    createTestDatabase(),
    startReplayServer(),
    startStreamServer(),
    connectNats('worker-stream-test'),
  ]);
  const mine = new Set(symbols);
  // the symbol list names the rig's symbols as trading: change events name only those
  replay.respond('/api/v3/exchangeInfo', {
    json: {
      timezone: 'UTC',
      serverTime: Date.now(),
      symbols: symbols.map((symbol) => ({
        symbol,
        status: 'TRADING',
        baseAsset: symbol.slice(0, -4),
        quoteAsset: 'USDT',
      })),
    },
  });
  const events = collect<BinanceUpdatedEvent>(nats, SUBJECTS.ratesBinanceUpdated, (e) =>
    e.changed.some((c) => mine.has(c.symbol)),
  );
  const { log, lines } = captureLog();
  const client = new BinanceClient({ baseUrl: replay.url, timeoutMs: 5000 });
  const service = new BinanceService({ client, db: database.db, log, nats });
  const { pollIntervalMs = 200, ...streamOptions } = options;
  const poller: FeedPoller = new FeedPoller({
    source: 'binance',
    intervalMs: pollIntervalMs,
    maxBackoffMs: 1000,
    db: database.db,
    log,
    poll: (signal) => stream.poll(signal),
  });
  const stream: BinanceStream = new BinanceStream({
    setting: 'auto',
    wsUrl: server.url,
    service,
    poller,
    db: database.db,
    log,
    intervalMs: pollIntervalMs,
    silenceMs: 1500,
    reconnectBaseMs: 50,
    reconnectMaxMs: 300,
    ...streamOptions,
  });
  return {
    database,
    replay,
    server,
    nats,
    poller,
    stream,
    lines,
    events,
    snapshot(prices) {
      replay.respond(PRICE_PATH, { json: Object.entries(prices).map(([symbol, price]) => ({ symbol, price })) });
    },
    async prices() {
      const rows = await database.db
        .selectFrom('binance_prices')
        .select(['symbol', 'price'])
        .orderBy('symbol')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.symbol, r.price]));
    },
    async history(symbol) {
      const rows = await database.db
        .selectFrom('binance_price_history')
        .select('price')
        .where('symbol', '=', symbol)
        // ids are cached per session (not in commit order): time orders the rows
        .orderBy('observed_at')
        .orderBy('id')
        .execute();
      return rows.map((r) => r.price);
    },
    async announced() {
      await events.settle(nats);
      return events.messages.flatMap((m) =>
        binanceUpdatedEvent.parse(m.data).changed.map((c): [string, string] => [c.symbol, c.price]),
      );
    },
    restPolls: () => replay.requests.filter((r) => r.path === PRICE_PATH).length,
    async close() {
      events.stop();
      await stream.stop();
      await poller.stop({ abort: true });
      await nats.drain();
      await Promise.all([replay.close(), server.close()]);
      await database.drop();
    },
  };
}
