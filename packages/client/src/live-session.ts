// One WebSocket session to the service's /ws that survives the connection: it reconnects with
// growing delays, authenticates again, and resubscribes every channel with `since` = the last frame
// id it delivered there, so frames missed while away are replayed and none is delivered twice. A
// live connection the service closes with 1012 (service restart: a replica stopping in a rolling
// restart) is no failure: the session connects again at once, after a small random pause that
// spreads a replica's sockets over the others, without a `reconnecting` state or a back-off step.
// Shared by the CLI and the web console: it uses only what browsers and Node (22.4+) both have —
// the standard WebSocket, timers and AbortSignal.
import { compareFrameIds, wsServerFrame, type WsErrorCode, type WsEventFrame } from '@ratewire/contracts/ws.schemas';

/**
 * `connecting`: each attempt (detail: the URL); `live`: every channel subscribed; `reconnecting`: the
 * connection ended or could not be made (detail: why, and the delay before the next attempt). A
 * live connection closed with 1012 (service restart) goes from `live` straight to `connecting`.
 */
export type LiveState = 'connecting' | 'live' | 'reconnecting';

export interface LiveHandlers {
  /** Each event frame, once, in order per channel; `raw` is its text as the server sent it. */
  event(frame: WsEventFrame, raw: string): void;
  /** The server confirmed the channel (after every connect); good moment to read current state. */
  subscribed?(channel: string, resumed: boolean): void;
  state?(state: LiveState, detail: string): void;
  /** The channel's history no longer reaches back to where we were: frames were lost. */
  reset?(channel: string): void;
}

export interface LiveOptions {
  /** The service's HTTP origin; the socket's URL is derived from it (http→ws, https→wss, + /ws). */
  baseUrl: string;
  /** The socket's URL when it is not `baseUrl`'s /ws. */
  webSocketUrl?: string | undefined;
  token?: string | undefined;
  channels: readonly string[];
  /** Resume points known beforehand (e.g. `watch --since`). */
  since?: ReadonlyMap<string, string>;
  signal: AbortSignal;
  handlers: LiveHandlers;
}

/** The server's error frame code, or `invalid_frame` for a frame that is not JSON. */
export type LiveErrorCode = WsErrorCode | 'invalid_frame';

/** Why the service ended the session: `done` rejects with it. */
export class LiveError extends Error {
  readonly code: LiveErrorCode;
  constructor(message: string, code: LiveErrorCode) {
    super(message);
    this.name = 'LiveError';
    this.code = code;
  }
}

const PING_EVERY_MS = 15_000;
/** No frame (not even a pong) for this long: the connection is dead even if TCP has not noticed. */
const SILENCE_MS = 40_000;
const MAX_DELAY_MS = 5_000;
/** Close code of a service restart (IANA registry): reconnect at once. */
export const CLOSE_SERVICE_RESTART = 1012;
/** Longest random pause before reconnecting after a service restart. */
const RESTART_JITTER_MS = 250;

export class LiveSession {
  readonly #opts: LiveOptions;
  readonly #channels = new Set<string>();
  /** The last delivered frame id per channel: where a reconnect resumes. */
  readonly #last = new Map<string, string>();
  /** For a channel that has delivered nothing yet: when it was first subscribed (this clock, as an id). */
  readonly #start = new Map<string, string>();
  #ws: WebSocket | undefined;
  #closed = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  /** Resolves when the session was closed; rejects with the error that ended it (a LiveError from the service). */
  readonly done: Promise<void>;

  constructor(opts: LiveOptions) {
    this.#opts = opts;
    for (const c of opts.channels) this.#channels.add(c);
    for (const [c, id] of opts.since ?? []) this.#last.set(c, id);
    // a signal aborted before the session began never fires 'abort': it is closed from the start
    if (opts.signal.aborted) this.#closed = true;
    else opts.signal.addEventListener('abort', () => this.close(), { once: true });
    this.done = this.#loop();
  }

  /** Where each channel would resume now. */
  get positions(): ReadonlyMap<string, string> {
    return this.#last;
  }

  subscribe(channel: string): void {
    if (this.#channels.has(channel)) return;
    this.#channels.add(channel);
    this.#send({ op: 'subscribe', channel, ...this.#sinceOf(channel) });
  }

  unsubscribe(channel: string): void {
    if (!this.#channels.delete(channel)) return;
    this.#send({ op: 'unsubscribe', channel });
  }

  close(): void {
    this.#closed = true;
    this.#ws?.close(1000);
    this.#wake?.();
  }

  /** Ends the session with an error `done` rejects with (the first one given, as it is). */
  fail(error: Error): void {
    this.#failure ??= error;
    this.close();
  }

  #sinceOf(channel: string): { since?: string } {
    const since = this.#last.get(channel) ?? this.#start.get(channel);
    return since ? { since } : {};
  }

  #send(op: unknown): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(op));
  }

  async #loop(): Promise<void> {
    const wsUrl = this.#opts.webSocketUrl ?? `${this.#opts.baseUrl.replace(/^http/, 'ws')}/ws`;
    let attempt = 0;
    while (!this.#closed) {
      this.#opts.handlers.state?.('connecting', wsUrl);
      const ended = await this.#connectOnce(wsUrl, () => {
        attempt = 0;
      });
      if (this.#closed) break;
      if (ended.restart) {
        // a planned restart of the replica that served us: the next connection lands elsewhere (or on
        // it, back); only a connection that was live counts, so a server refusing at once still backs off
        await this.#pause(Math.random() * RESTART_JITTER_MS);
        continue;
      }
      attempt++;
      const delay = Math.min(MAX_DELAY_MS, 200 * 2 ** Math.min(attempt - 1, 5)) * (0.75 + Math.random() * 0.5);
      this.#opts.handlers.state?.('reconnecting', `${ended.reason}; again in ${(delay / 1000).toFixed(1)} s`);
      await this.#pause(delay);
    }
    if (this.#failure) throw this.#failure;
  }

  /** Waits `ms`, or less when close() wakes it. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** One connection, from open to close; answers why it ended, and whether it was a live one's restart. */
  #connectOnce(wsUrl: string, opened: () => void): Promise<{ reason: string; restart: boolean }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(wsUrl);
      this.#ws = ws;
      let live = false;
      let lastFrameAt = Date.now();
      let authed = !this.#opts.token;
      const pending = new Set<string>();
      const timer = setInterval(() => {
        if (Date.now() - lastFrameAt > SILENCE_MS) ws.close(4000, 'silent');
        else this.#send({ op: 'ping' });
      }, PING_EVERY_MS);
      const subscribeAll = () => {
        for (const channel of this.#channels) {
          pending.add(channel);
          this.#send({ op: 'subscribe', channel, ...this.#sinceOf(channel) });
        }
      };
      ws.addEventListener('open', () => {
        if (this.#opts.token) this.#send({ op: 'auth', token: this.#opts.token });
        else subscribeAll();
      });
      ws.addEventListener('message', (msg: MessageEvent) => {
        lastFrameAt = Date.now();
        const raw = String(msg.data);
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          return this.fail(new LiveError('the service sent a frame that is not JSON', 'invalid_frame'));
        }
        const parsed = wsServerFrame.safeParse(json);
        if (!parsed.success) return; // a frame kind this client does not know: skip it
        const frame = parsed.data;
        switch (frame.type) {
          case 'authenticated':
            if (!authed) {
              authed = true;
              subscribeAll();
            }
            return;
          case 'subscribed': {
            const resumed = this.#last.has(frame.channel) || this.#start.has(frame.channel);
            if (pending.delete(frame.channel) && pending.size === 0) {
              live = true;
              opened();
              this.#opts.handlers.state?.('live', wsUrl);
            }
            // a channel with no frame yet resumes from the moment it was first subscribed (only the
            // resume point: a live frame stamped a little earlier is still delivered)
            if (!resumed) this.#start.set(frame.channel, `${Date.now() - 1000}-0`);
            this.#opts.handlers.subscribed?.(frame.channel, resumed);
            return;
          }
          case 'event': {
            if (!this.#channels.has(frame.channel)) return;
            const last = this.#last.get(frame.channel);
            if (last && compareFrameIds(frame.id, last) <= 0) return; // already delivered
            this.#last.set(frame.channel, frame.id);
            this.#opts.handlers.event(frame, raw);
            return;
          }
          case 'reset':
            this.#opts.handlers.reset?.(frame.channel);
            return;
          case 'error':
            return this.fail(new LiveError(frame.message, frame.code));
          default:
            return;
        }
      });
      ws.addEventListener('close', (ev: CloseEvent) => {
        clearInterval(timer);
        const restart = ev.code === CLOSE_SERVICE_RESTART;
        resolve({
          reason: restart
            ? 'the server restarted'
            : `connection closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`,
          restart: restart && live,
        });
      });
      ws.addEventListener('error', () => {
        // 'close' follows and says it
      });
    });
  }
}
