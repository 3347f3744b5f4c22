// The console's one WebSocket: a LiveSession (the same session the CLI uses) to this origin's /ws,
// shared by every component. A component listens to a channel; the first listener subscribes it
// and the last one to leave unsubscribes it. The session resumes every channel after a dropped
// connection, so listeners see each frame once, in order. The browser's session cookie
// authenticates the socket when it opens: after logging in or out, renew() opens a new one that
// resumes where the old one was.
import { signal } from '@preact/signals';
import { LiveSession } from '@ratewire/client/live-session';
import type { WsEventFrame } from '@ratewire/contracts/ws.schemas';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface Connection {
  state: ConnectionState;
  /** Why, for reconnecting and offline. */
  detail: string;
  /** When the state began (ms since the epoch). */
  since: number;
  /** How many times the connection came back after being lost. */
  resumes: number;
}

export const connection = signal<Connection>({ state: 'connecting', detail: '', since: Date.now(), resumes: 0 });

export interface ChannelListener {
  /** Each event frame of the channel, once, in order. */
  event(frame: WsEventFrame): void;
  /** The server (re)confirmed the channel: `resumed` after a reconnect; a good moment to reload state. */
  subscribed?(resumed: boolean): void;
  /** Frames were lost (the channel's history no longer reaches back): reload state. */
  reset?(): void;
}

const listeners = new Map<string, Set<ChannelListener>>();
let session: LiveSession | undefined;
let stop: AbortController | undefined;
/** Counts the sessions opened: an older session's callbacks are ignored. */
let generation = 0;
let wasLive = false;

const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

function setState(state: ConnectionState, detail: string): void {
  const now = connection.value;
  if (state === 'reconnecting' && typeof navigator !== 'undefined' && navigator.onLine === false) state = 'offline';
  const resumes = state === 'live' && wasLive && now.state !== 'live' ? now.resumes + 1 : now.resumes;
  if (state === 'live') wasLive = true;
  if (now.state === state && now.detail === detail) return;
  connection.value = { state, detail, since: now.state === state ? now.since : Date.now(), resumes };
}

function open(since?: ReadonlyMap<string, string>): void {
  stop = new AbortController();
  const mine = ++generation;
  const current = new LiveSession({
    baseUrl: location.origin,
    webSocketUrl: wsUrl(),
    channels: [...listeners.keys()],
    ...(since ? { since } : {}),
    signal: stop.signal,
    handlers: {
      event(frame) {
        for (const l of listeners.get(frame.channel) ?? []) l.event(frame);
      },
      subscribed(channel, resumed) {
        for (const l of listeners.get(channel) ?? []) l.subscribed?.(resumed);
      },
      reset(channel) {
        for (const l of listeners.get(channel) ?? []) l.reset?.();
      },
      state(state, detail) {
        if (generation === mine) setState(state, detail);
      },
    },
  });
  session = current;
  current.done.catch((err: unknown) => {
    if (generation !== mine) return;
    setState('offline', err instanceof Error ? err.message : String(err));
    session = undefined;
  });
}

/** Follows `channel` until the returned function is called. */
export function listen(channel: string, listener: ChannelListener): () => void {
  let set = listeners.get(channel);
  if (!set) {
    set = new Set();
    listeners.set(channel, set);
  }
  set.add(listener);
  if (!session) open();
  else session.subscribe(channel);
  return () => {
    const current = listeners.get(channel);
    if (!current?.delete(listener) || current.size > 0) return;
    listeners.delete(channel);
    session?.unsubscribe(channel);
  };
}

/** A new socket (the session cookie changed), resuming every channel where the old one was. */
export function renew(): void {
  const positions = session ? new Map(session.positions) : undefined;
  stop?.abort();
  session = undefined;
  if (listeners.size > 0) open(positions);
}

if (typeof window !== 'undefined') {
  window.addEventListener('offline', () => {
    if (connection.value.state !== 'live') setState('offline', 'the browser is offline');
  });
  // back online, or back to a tab whose timers the browser slowed: reconnect now rather than at the
  // end of the back-off (the new socket resumes every channel where the old one was)
  const resumeNow = () => {
    if (connection.value.state !== 'live' && listeners.size > 0) renew();
  };
  window.addEventListener('online', resumeNow);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') resumeNow();
  });
}
