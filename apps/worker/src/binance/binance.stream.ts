// Binance's all-market mini-ticker stream (`!miniTicker@arr`, one combined-stream connection:
// the symbols that changed, about once a second), run by the feed leader when BINANCE_STREAM is
// auto or on. What changed goes through BinanceService.write, the poll's own snapshot path and event.
//
// Binance's rules (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams,
// "General WSS information"), and how they are kept here:
// - a ping every 20 s wants a pong with the same payload within a minute: `ws` answers each ping
//   with its payload (autoPong, set explicitly so nothing turns it off);
// - a connection lives 24 h at most, and `serverShutdown` announces a disconnection: both rotate
//   make-before-break — a second connection opens, and the first is closed only once the second
//   has delivered a frame. Both carry the same events; per-symbol event times drop the repeats.
// - reconnects back off exponentially with jitter (300 connection attempts per 5 min per IP).
//
// Switching without gaps (at start, and after every reconnect): open the stream and buffer its
// frames, take a REST snapshot (ticker/price, through the poller so feed_status and the 429 pause
// apply), write it, then the buffered events newer than it, then live. The snapshot carries no
// time of its own; it is placed on the stream's clock as the newest event time received before
// the request went out (its "anchor"): events up to the anchor happened before the request and
// are in it; events after it are applied on top. The same rule serves a snapshot taken while live
// (a rates-refresh task): symbols the stream has since written newer are left out of it.
// Per symbol, an event is applied only when newer than the last one applied and than the last
// snapshot's anchor, so an older price never overwrites a newer one and none is written twice.
//
// auto: while the stream is silent (no good frame for `silenceMs`) or failing, the poller runs as
// with BINANCE_STREAM=off, and the stream keeps reconnecting in the background; once a new
// connection delivers, the switch above happens and polling stops. on: the stream only; it
// reconnects with backoff forever, and polls only for each switch's snapshot.
// The exchangeInfo symbol list stays hourly in every mode.
import WebSocket from 'ws';

import {
  recordFeedFailure,
  recordFeedMode,
  recordFeedSuccess,
  type BinancePriceChange,
  type Database,
  type FeedMode,
} from '@ratewire/db';
import { errorMessage, type Logger } from '@ratewire/runtime';

import { FeedError } from '../feeds/feed-http.ts';
import { backoffDelay, type FeedPoller, type PollResult } from '../feeds/feed-poller.ts';
import type { BinanceService } from './binance.service.ts';
import { MAX_FRAME_BYTES, MINI_TICKER_STREAM, parseStreamFrame, type StreamTick } from './binance.stream-parser.ts';

export type BinanceStreamSetting = 'auto' | 'on';

export interface BinanceStreamOptions {
  setting: BinanceStreamSetting;
  /** Stream origin (BINANCE_WS_URL); `/stream?streams=!miniTicker@arr` is appended. */
  wsUrl: string;
  service: BinanceService;
  /** The Binance poller: fallback polling (auto), and the snapshot of every switch. */
  poller: FeedPoller;
  db: Database;
  log: Logger;
  /** BINANCE_POLL_INTERVAL_MS, for feed_status (its staleness is three of these). */
  intervalMs: number;
  /** No good frame for this long: the connection is given up (default 10 s). */
  silenceMs?: number;
  /** A connection's age at which it is replaced (default 23 h; Binance ends it at 24 h). */
  rotateAfterMs?: number;
  /** Reconnect backoff: first delay and ceiling (default 1 s, 60 s), "equal jitter". */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Frames larger than this are dropped unparsed (default 8 MiB). */
  maxFrameBytes?: number;
  /** How often the symbol list is looked at while the poller is idle (default 60 s; refreshed when an hour old). */
  symbolsCheckMs?: number;
  /** Malformed frames are logged at most once per this (default 10 s), with the count since. */
  dropLogMs?: number;
  random?: () => number;
}

export interface BinanceStreamStatus {
  setting: BinanceStreamSetting;
  /** `stream` while the stream feeds the prices (or, with `on`, is being brought back), else `polling`. */
  mode: FeedMode;
  /** The connection: `connecting` (until a frame arrives), `syncing` (buffering around the snapshot), `live`, `waiting` (to reconnect). */
  state: Phase;
  since: string;
  /** Event time of the newest frame received, ISO. */
  last_event_at: string | null;
  connections: number;
}

export interface BinanceStreamStats {
  frames: number;
  droppedFrames: number;
  droppedEntries: number;
  /** Entries already applied (older or equal event time): repeats across connections, out-of-order frames. */
  staleEntries: number;
  /** Entries written (they may still be equal to the stored price: the database decides what changed). */
  appliedEntries: number;
  writes: number;
  snapshots: number;
  connects: number;
  rotations: number;
  failures: number;
}

type Phase = 'idle' | 'connecting' | 'syncing' | 'live' | 'waiting';

type QueueItem =
  | { kind: 'events'; ticks: StreamTick[] }
  | {
      kind: 'snapshot';
      symbols: string[];
      prices: string[];
      anchor: number;
      done: (changed: BinancePriceChange[]) => void;
      failed: (err: unknown) => void;
    };

/** Event items waiting beyond this are merged into one write (the latest price per symbol). */
const MAX_BACKLOG = 20;
/** Live this long, a connection's failure starts the backoff from the beginning again. */
const STABLE_AFTER_MS = 60_000;

let connectionIds = 0;

/** One WebSocket to the combined stream. */
class StreamConnection {
  readonly id = ++connectionIds;
  readonly startedAt = Date.now();
  /** When the last frame with at least one good entry arrived. */
  lastGoodAt: number | undefined;
  closed = false;
  private readonly ws: WebSocket;

  constructor(
    url: string,
    options: { handshakeTimeout: number; maxPayload: number },
    handlers: {
      message: (conn: StreamConnection, data: Buffer, isBinary: boolean) => void;
      gone: (conn: StreamConnection, reason: string) => void;
    },
  ) {
    // autoPong: every ping is answered with its own payload, as Binance requires
    this.ws = new WebSocket(url, { autoPong: true, followRedirects: false, perMessageDeflate: false, ...options });
    this.ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!this.closed) handlers.message(this, toBuffer(data), isBinary);
    });
    this.ws.on('error', (err: Error) => {
      if (!this.closed) handlers.gone(this, errorMessage(err));
    });
    this.ws.on('close', (code: number, reason: Buffer) => {
      if (!this.closed)
        handlers.gone(
          this,
          `closed by the server (${code}${reason.length ? ` ${reason.toString('utf8').slice(0, 100)}` : ''})`,
        );
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(1000);
    // a server that does not finish the closing handshake is not waited for
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }
}

const toBuffer = (data: WebSocket.RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);

export class BinanceStream {
  readonly stats: BinanceStreamStats = {
    frames: 0,
    droppedFrames: 0,
    droppedEntries: 0,
    staleEntries: 0,
    appliedEntries: 0,
    writes: 0,
    snapshots: 0,
    connects: 0,
    rotations: 0,
    failures: 0,
  };
  private readonly opts: BinanceStreamOptions;
  private readonly url: string;
  private readonly silenceMs: number;
  private readonly rotateAfterMs: number;
  private readonly maxFrameBytes: number;
  private running = false;
  /** Bumped by start() and stop(): callbacks of an earlier term do nothing. */
  private term = 0;
  private phase: Phase = 'idle';
  private mode: FeedMode;
  private modeSince = new Date();
  private modeWrite: Promise<void> = Promise.resolve();
  private primary: StreamConnection | undefined;
  /** The connection replacing `primary` (rotation), until it delivers. */
  private secondary: StreamConnection | undefined;
  private failures = 0;
  private liveSince = 0;
  /** Per symbol, the newest event time received (to drop repeats and out-of-order frames at once). */
  private seen = new Map<string, number>();
  /** Per symbol, the event time of the price written last (a snapshot's: its anchor). */
  private applied = new Map<string, number>();
  /** Bumped whenever the connection is lost: a snapshot begun before belongs to no buffer. */
  private generation = 0;
  /** The newest event time received on any connection. */
  private latestEventTime: number | undefined;
  private queue: QueueItem[] = [];
  /** While true the queue is kept, not written (a switch's buffer). */
  private buffering = true;
  private draining: Promise<void> | undefined;
  private lastSuccessRecord = 0;
  private watchTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  private symbolsTimer: NodeJS.Timeout | undefined;
  private drops = { count: 0, loggedAt: 0, suppressed: 0 };

  constructor(opts: BinanceStreamOptions) {
    this.opts = opts;
    this.url = `${opts.wsUrl.replace(/\/+$/, '')}/stream?streams=${MINI_TICKER_STREAM}`;
    this.silenceMs = opts.silenceMs ?? 10_000;
    this.rotateAfterMs = opts.rotateAfterMs ?? 23 * 3_600_000;
    this.maxFrameBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.mode = opts.setting === 'on' ? 'stream' : 'polling';
  }

  get status(): BinanceStreamStatus {
    return {
      setting: this.opts.setting,
      mode: this.mode,
      state: this.phase,
      since: this.modeSince.toISOString(),
      last_event_at: this.latestEventTime === undefined ? null : new Date(this.latestEventTime).toISOString(),
      connections: (this.primary ? 1 : 0) + (this.secondary ? 1 : 0),
    };
  }

  /** This replica leads: connect, switch to the stream. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.term += 1;
    this.failures = 0;
    // a new term trusts nothing remembered: another leader may have written meanwhile
    this.seen = new Map();
    this.applied = new Map();
    this.generation += 1;
    this.latestEventTime = undefined;
    const tick = Math.max(20, Math.min(1000, Math.floor(this.silenceMs / 5)));
    this.watchTimer = setInterval(() => this.watch(), tick);
    this.symbolsTimer = setInterval(() => this.refreshSymbols(), this.opts.symbolsCheckMs ?? 60_000);
    this.setMode(this.opts.setting === 'on' ? 'stream' : 'polling', true);
    this.connect();
  }

  /** Leadership lost, or shutdown: close the connections; a write in progress finishes. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.term += 1;
    this.phase = 'idle';
    for (const t of [this.reconnectTimer, this.rotateTimer]) clearTimeout(t);
    for (const t of [this.watchTimer, this.symbolsTimer]) clearInterval(t);
    this.closeConnections();
    this.clearQueue(new FeedError('aborted', 'the stream stopped'));
    await this.draining;
    await this.modeWrite;
  }

  /**
   * The Binance poller's poll: while the stream runs, a snapshot placed on the stream's clock
   * (see the top of this file); otherwise a plain poll.
   */
  async poll(signal: AbortSignal): Promise<PollResult> {
    if (!this.running || (this.phase !== 'syncing' && this.phase !== 'live')) return this.opts.service.poll(signal);
    const generation = this.generation;
    const anchor = this.latestEventTime;
    if (anchor === undefined) return this.opts.service.poll(signal);
    const fetched = await this.opts.service.fetchSnapshot(signal);
    if (generation !== this.generation || (this.phase !== 'syncing' && this.phase !== 'live')) {
      throw new FeedError('aborted', 'the stream was replaced while the snapshot was taken');
    }
    const changed = await new Promise<BinancePriceChange[]>((done, failed) => {
      // before every event not yet written: those up to the anchor are in the snapshot
      this.queue.unshift({ kind: 'snapshot', ...fetched.snapshot, anchor, done, failed });
      this.buffering = false;
      this.kick();
    });
    this.stats.snapshots += 1;
    return this.opts.service.pollResult(
      fetched,
      changed.length,
      ` (after stream event ${new Date(anchor).toISOString()})`,
    );
  }

  private connect(): void {
    if (!this.running) return;
    this.phase = 'connecting';
    this.buffering = true;
    this.stats.connects += 1;
    this.primary = this.open();
  }

  private open(): StreamConnection {
    return new StreamConnection(
      this.url,
      { handshakeTimeout: this.silenceMs, maxPayload: Math.max(2 * this.maxFrameBytes, 16 * 1024 * 1024) },
      {
        message: (conn, data, isBinary) => this.onMessage(conn, data, isBinary),
        gone: (conn, reason) => this.onGone(conn, reason),
      },
    );
  }

  private onMessage(conn: StreamConnection, data: Buffer, isBinary: boolean): void {
    if (!this.running || (conn !== this.primary && conn !== this.secondary)) return;
    this.stats.frames += 1;
    const frame = isBinary
      ? ({ kind: 'invalid', reason: `binary frame of ${data.length} bytes` } as const)
      : parseStreamFrame(data, this.maxFrameBytes);
    switch (frame.kind) {
      case 'invalid':
        this.stats.droppedFrames += 1;
        this.noteDrop(`frame dropped: ${frame.reason}`, conn);
        return;
      case 'reply':
        return;
      case 'shutdown':
        this.opts.log.info({ feed: 'binance', connection: conn.id }, 'binance stream: serverShutdown received');
        if (conn === this.primary) this.rotate('serverShutdown');
        else this.dropSecondary('serverShutdown on the new connection');
        return;
      case 'tickers':
        break;
    }
    if (frame.dropped) {
      this.stats.droppedEntries += frame.dropped;
      if (frame.issue) this.noteDrop(`${frame.dropped} entries dropped, first: ${frame.issue}`, conn);
    }
    if (!frame.ticks.length) return;
    conn.lastGoodAt = Date.now();
    const fresh: StreamTick[] = [];
    for (const tick of frame.ticks) {
      if (this.latestEventTime === undefined || tick.eventTime > this.latestEventTime)
        this.latestEventTime = tick.eventTime;
      const seen = this.seen.get(tick.symbol);
      if (seen !== undefined && tick.eventTime <= seen) {
        this.stats.staleEntries += 1;
        continue;
      }
      this.seen.set(tick.symbol, tick.eventTime);
      fresh.push(tick);
    }
    if (fresh.length) this.queue.push({ kind: 'events', ticks: fresh });
    if (conn === this.secondary) this.promote();
    else if (this.phase === 'connecting') {
      this.phase = 'syncing';
      void this.sync();
    }
    this.kick();
  }

  /** Buffering already: stop polling, take the snapshot through the poller, then live. */
  private async sync(): Promise<void> {
    const generation = this.generation;
    const { poller, log } = this.opts;
    try {
      await poller.stop();
      if (generation !== this.generation || this.phase !== 'syncing') return;
      const outcome = await poller.pollNow();
      if (generation !== this.generation || this.phase !== 'syncing') return;
      if (!outcome.ok) throw new Error(outcome.error);
      this.phase = 'live';
      this.liveSince = Date.now();
      this.setMode('stream');
      this.scheduleRotation(this.primary);
      log.info({ feed: 'binance', connection: this.primary?.id }, 'binance stream live');
    } catch (err) {
      if (generation === this.generation) this.fail(`snapshot for the switch failed: ${errorMessage(err)}`);
    }
  }

  private onGone(conn: StreamConnection, reason: string): void {
    if (!this.running) return;
    if (conn === this.secondary) this.dropSecondary(reason);
    else if (conn === this.primary) this.fail(reason);
  }

  /** Checks both connections for silence. */
  private watch(): void {
    if (!this.running) return;
    const now = Date.now();
    const p = this.primary;
    if (p && now - (p.lastGoodAt ?? p.startedAt) > this.silenceMs) {
      this.fail(`no frame for ${this.silenceMs} ms`);
      return;
    }
    const s = this.secondary;
    if (s && s.lastGoodAt === undefined && now - s.startedAt > this.silenceMs) {
      this.dropSecondary(`the new connection sent no frame within ${this.silenceMs} ms`);
    }
  }

  /** Opens the connection that replaces the current one; the current one stays until it delivers. */
  private rotate(reason: string): void {
    clearTimeout(this.rotateTimer);
    this.rotateTimer = undefined;
    if (!this.running || this.secondary || !this.primary) return;
    if (this.phase !== 'live') {
      // mid-switch: try again shortly
      this.rotateTimer = setTimeout(() => this.rotate(reason), Math.min(1000, this.silenceMs));
      return;
    }
    this.opts.log.info(
      { feed: 'binance', reason, connection: this.primary.id },
      'binance stream: opening a replacement connection',
    );
    this.secondary = this.open();
  }

  private promote(): void {
    const old = this.primary;
    const next = this.secondary;
    if (!next) return;
    this.primary = next;
    this.secondary = undefined;
    old?.close();
    this.stats.rotations += 1;
    this.scheduleRotation(next);
    this.opts.log.info({ feed: 'binance', from: old?.id, to: next.id }, 'binance stream: connection replaced');
  }

  private dropSecondary(reason: string): void {
    const s = this.secondary;
    if (!s) return;
    this.secondary = undefined;
    s.close();
    this.opts.log.warn(
      { feed: 'binance', reason, connection: s.id },
      'binance stream: replacement connection failed; the current one stays',
    );
    clearTimeout(this.rotateTimer);
    const delay = backoffDelay(
      this.opts.reconnectBaseMs ?? 1000,
      1,
      this.opts.reconnectMaxMs ?? 60_000,
      this.opts.random,
    );
    this.rotateTimer = setTimeout(() => this.rotate('retry'), delay);
  }

  private scheduleRotation(conn: StreamConnection | undefined): void {
    clearTimeout(this.rotateTimer);
    if (!conn) return;
    const wait = Math.max(0, conn.startedAt + this.rotateAfterMs - Date.now());
    this.rotateTimer = setTimeout(() => this.rotate('connection age'), wait);
  }

  /** The connection is gone or useless: close all, poll meanwhile (auto), reconnect after a backoff. */
  private fail(reason: string): void {
    if (!this.running || this.phase === 'waiting') return;
    const term = this.term;
    if (this.phase === 'live' && Date.now() - this.liveSince > STABLE_AFTER_MS) this.failures = 0;
    this.failures += 1;
    this.stats.failures += 1;
    this.generation += 1;
    this.phase = 'waiting';
    clearTimeout(this.rotateTimer);
    this.closeConnections();
    this.clearQueue(new FeedError('network', `the stream failed: ${reason}`));
    const delay = backoffDelay(
      this.opts.reconnectBaseMs ?? 1000,
      this.failures,
      this.opts.reconnectMaxMs ?? 60_000,
      this.opts.random,
    );
    const { log, db, poller, intervalMs, setting } = this.opts;
    log.warn(
      { feed: 'binance', err: reason, failures: this.failures, reconnectInMs: delay },
      setting === 'auto' ? 'binance stream failed; polling until it is back' : 'binance stream failed; reconnecting',
    );
    void recordFeedFailure(db, 'binance', intervalMs, `stream: ${reason}`).catch((err: unknown) =>
      log.warn({ feed: 'binance', err: errorMessage(err) }, 'feed status not recorded'),
    );
    void (async () => {
      // a write in progress lands before any poll can
      await this.draining;
      if (term !== this.term || this.phase !== 'waiting') return;
      if (setting === 'auto') {
        this.setMode('polling');
        poller.start();
      }
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    })();
  }

  private closeConnections(): void {
    this.primary?.close();
    this.secondary?.close();
    this.primary = undefined;
    this.secondary = undefined;
  }

  private clearQueue(err: unknown): void {
    const items = this.queue;
    this.queue = [];
    this.buffering = true;
    for (const item of items) if (item.kind === 'snapshot') item.failed(err);
  }

  private kick(): void {
    if (this.draining || this.buffering || !this.queue.length) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (!this.buffering && this.queue.length) {
      const item = this.next();
      try {
        if (item.kind === 'snapshot') await this.writeSnapshot(item);
        else await this.writeEvents(item.ticks);
      } catch (err) {
        if (item.kind === 'snapshot') item.failed(err);
        // what the memory holds is no longer what the table holds: switch again from a snapshot
        else this.fail(`write failed: ${errorMessage(err)}`);
        return;
      }
    }
  }

  /** The next item; a backlog of events (the database is slow) is merged into one write. */
  private next(): QueueItem {
    const first = this.queue.shift()!;
    if (first.kind !== 'events' || this.queue.length < MAX_BACKLOG) return first;
    const merged = new Map(first.ticks.map((t) => [t.symbol, t]));
    while (this.queue[0]?.kind === 'events') {
      for (const t of (this.queue.shift() as { ticks: StreamTick[] }).ticks) merged.set(t.symbol, t);
    }
    this.opts.log.warn(
      { feed: 'binance', symbols: merged.size },
      'binance stream: writes fell behind; merged the backlog',
    );
    return { kind: 'events', ticks: [...merged.values()] };
  }

  private async writeSnapshot(item: Extract<QueueItem, { kind: 'snapshot' }>): Promise<void> {
    const symbols: string[] = [];
    const prices: string[] = [];
    for (let i = 0; i < item.symbols.length; i++) {
      const symbol = item.symbols[i]!;
      // the stream wrote a newer price since the request went out
      if ((this.applied.get(symbol) ?? 0) > item.anchor) continue;
      symbols.push(symbol);
      prices.push(item.prices[i]!);
    }
    const changed = await this.opts.service.write({ symbols, prices, observedAt: new Date(item.anchor) });
    // events up to the anchor are in the snapshot: none of them is applied after it
    for (const symbol of symbols) this.applied.set(symbol, item.anchor);
    this.stats.writes += 1;
    item.done(changed);
  }

  private async writeEvents(ticks: StreamTick[]): Promise<void> {
    const keep = ticks.filter((t) => t.eventTime > (this.applied.get(t.symbol) ?? 0));
    this.stats.staleEntries += ticks.length - keep.length;
    if (!keep.length) return;
    const observedAt = new Date(Math.max(...keep.map((t) => t.eventTime)));
    await this.opts.service.write({
      symbols: keep.map((t) => t.symbol),
      prices: keep.map((t) => t.price),
      observedAt,
    });
    for (const t of keep) this.applied.set(t.symbol, t.eventTime);
    this.stats.appliedEntries += keep.length;
    this.stats.writes += 1;
    this.recordSuccess();
  }

  /** feed_status: the stream's writes count as the feed's successes (at most every few seconds). */
  private recordSuccess(): void {
    const { db, log, intervalMs } = this.opts;
    const now = Date.now();
    if (now - this.lastSuccessRecord < Math.min(5000, intervalMs / 2)) return;
    this.lastSuccessRecord = now;
    void recordFeedSuccess(db, 'binance', intervalMs).catch((err: unknown) =>
      log.warn({ feed: 'binance', err: errorMessage(err) }, 'feed status not recorded'),
    );
  }

  private setMode(mode: FeedMode, force = false): void {
    if (!force && mode === this.mode) return;
    this.mode = mode;
    this.modeSince = new Date();
    const { db, log, intervalMs, setting } = this.opts;
    const at = this.modeSince;
    if (!force)
      log.info(
        { feed: 'binance', mode, setting },
        `binance prices now from ${mode === 'stream' ? 'the stream' : 'polling'}`,
      );
    this.modeWrite = this.modeWrite.then(() =>
      recordFeedMode(db, 'binance', intervalMs, { mode, setting }, at).catch((err: unknown) =>
        log.warn({ feed: 'binance', err: errorMessage(err) }, 'feed mode not recorded'),
      ),
    );
  }

  /** The symbol list while no poll runs (a poll refreshes it itself). */
  private refreshSymbols(): void {
    if (!this.running || this.opts.poller.active || this.phase !== 'live') return;
    const controller = new AbortController();
    this.opts.service
      .refreshSymbolsIfDue(controller.signal)
      .catch((err: unknown) =>
        this.opts.log.warn({ feed: 'binance', err: errorMessage(err) }, 'binance symbol refresh failed'),
      );
  }

  /** Malformed input is logged at most once per `dropLogMs`, with how many went unlogged. */
  private noteDrop(message: string, conn: StreamConnection): void {
    const now = Date.now();
    this.drops.count += 1;
    if (now - this.drops.loggedAt < (this.opts.dropLogMs ?? 10_000)) {
      this.drops.suppressed += 1;
      return;
    }
    this.opts.log.warn(
      { feed: 'binance', connection: conn.id, unlogged: this.drops.suppressed },
      `binance stream: ${message}`,
    );
    this.drops.loggedAt = now;
    this.drops.suppressed = 0;
  }
}
