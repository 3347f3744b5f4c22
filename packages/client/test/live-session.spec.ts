// LiveSession against a local peer speaking the api's /ws wire format (welcome, authenticated,
// subscribed, event, reset, error), so reconnects, resumes and the service's errors are real
// socket events: the peer drops the socket, replays frames, answers ops as a test scripts it.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import type { WsEventFrame } from '@ratewire/contracts/ws.schemas';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket as PeerSocket } from 'ws';

import { LiveError, LiveSession, type LiveHandlers, type LiveState } from '../src/live-session.ts';

type Op = { op: string; channel?: string; since?: string; token?: string };

/** One socket the peer accepted: the ops it received, in order (pings left out). */
interface Conn {
  socket: PeerSocket;
  ops: Op[];
}

class Peer {
  readonly conns: Conn[] = [];
  /** How the peer answers an op; by default it authenticates any token and confirms any subscribe. */
  answer: (conn: Conn, op: Op) => void = (conn, op) => {
    if (op.op === 'auth') send(conn, { type: 'authenticated', user_id: 'u-1' });
    if (op.op === 'subscribe') send(conn, { type: 'subscribed', channel: op.channel });
  };
  readonly wss: WebSocketServer;
  constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on('connection', (socket) => {
      const conn: Conn = { socket, ops: [] };
      this.conns.push(conn);
      send(conn, { type: 'welcome' });
      socket.on('message', (data) => {
        // a text frame: one Buffer
        const op = JSON.parse((data as Buffer).toString('utf8')) as Op;
        if (op.op === 'ping') return send(conn, { type: 'pong' });
        conn.ops.push(op);
        this.answer(conn, op);
      });
    });
  }
  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }
  conn(i: number): Conn {
    const c = this.conns[i];
    if (!c) throw new Error(`no connection ${i} yet`);
    return c;
  }
}

function send(conn: Conn, frame: unknown): void {
  conn.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
}

const event = (channel: string, id: string, data: unknown = { n: id }) => ({
  type: 'event',
  channel,
  id,
  event: 'rates.cbr.updated',
  data,
  ts: '2026-12-01T12:00:00.000Z',
});

/** Waits for a condition the session reaches through socket events (no fixed delays). */
const until = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 10 });

/** A session whose handlers record what it delivered and said. */
function record() {
  const delivered: { channel: string; id: string; raw: string }[] = [];
  const states: [LiveState, string][] = [];
  const subscribed: [string, boolean][] = [];
  const resets: string[] = [];
  const handlers: LiveHandlers = {
    event: (frame: WsEventFrame, raw) => delivered.push({ channel: frame.channel, id: frame.id, raw }),
    state: (state, detail) => states.push([state, detail]),
    subscribed: (channel, resumed) => subscribed.push([channel, resumed]),
    reset: (channel) => resets.push(channel),
  };
  return { delivered, states, subscribed, resets, handlers, ids: () => delivered.map((d) => d.id) };
}

let peer: Peer;
const sessions: LiveSession[] = [];
const open = (opts: Omit<ConstructorParameters<typeof LiveSession>[0], 'signal'> & { signal?: AbortSignal }) => {
  const session = new LiveSession({ signal: new AbortController().signal, ...opts });
  sessions.push(session);
  return session;
};

beforeEach(async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  await once(wss, 'listening');
  peer = new Peer(wss);
});

afterEach(async () => {
  for (const s of sessions.splice(0)) {
    s.close();
    await s.done.catch(() => undefined);
  }
  for (const socket of peer.wss.clients) socket.terminate();
  await new Promise((resolve) => peer.wss.close(resolve));
});

describe('LiveSession', () => {
  it('connects to baseUrl’s /ws, is live once subscribed, and close() resolves done', async () => {
    const r = record();
    const session = open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.states.map(([s]) => s)).toEqual(['connecting', 'live']));
    expect(r.states).toEqual([
      ['connecting', peer.url],
      ['live', peer.url],
    ]);
    // no token: no auth op, and a first subscribe has nothing to resume from
    expect(peer.conn(0).ops).toEqual([{ op: 'subscribe', channel: 'rates.cbr' }]);
    expect(r.subscribed).toEqual([['rates.cbr', false]]);
    session.close();
    await expect(session.done).resolves.toBeUndefined();
    await until(() => expect(peer.wss.clients.size).toBe(0));
    expect(peer.conns).toHaveLength(1);
  });

  it('uses webSocketUrl instead of the one derived from baseUrl', async () => {
    const r = record();
    // nothing listens on the base URL's port: only the override can connect
    open({ baseUrl: 'http://127.0.0.1:1', webSocketUrl: peer.url, channels: ['currencies'], handlers: r.handlers });
    await until(() => expect(r.states.at(-1)).toEqual(['live', peer.url]));
    expect(r.states[0]).toEqual(['connecting', peer.url]);
  });

  it('after the server drops the socket, authenticates again and resumes each channel since its last delivered id, delivering no frame twice', async () => {
    const r = record();
    const session = open({
      baseUrl: peer.baseUrl,
      token: 'tok-1',
      channels: ['rates.cbr', 'currencies'],
      handlers: r.handlers,
    });
    await until(() => expect(r.states.map(([s]) => s)).toEqual(['connecting', 'live']));
    const first = peer.conn(0);
    expect(first.ops.map((o) => o.op)).toEqual(['auth', 'subscribe', 'subscribe']);
    expect(first.ops[0]).toEqual({ op: 'auth', token: 'tok-1' });
    send(first, event('rates.cbr', '1764581400000-0'));
    send(first, event('rates.cbr', '1764581400000-1'));
    send(first, event('currencies', '1764581400500-0'));
    await until(() => expect(r.delivered).toHaveLength(3));
    expect(session.positions.get('rates.cbr')).toBe('1764581400000-1');

    first.socket.close(1012, 'restart');
    await until(() => expect(peer.conns).toHaveLength(2));
    const second = peer.conn(1);
    await until(() => expect(second.ops).toHaveLength(3));
    expect(second.ops).toEqual([
      { op: 'auth', token: 'tok-1' },
      { op: 'subscribe', channel: 'rates.cbr', since: '1764581400000-1' },
      { op: 'subscribe', channel: 'currencies', since: '1764581400500-0' },
    ]);
    await until(() => expect(r.states.at(-1)?.[0]).toBe('live'));
    expect(r.subscribed.slice(2)).toEqual([
      ['rates.cbr', true],
      ['currencies', true],
    ]);

    // the replay overlaps what was delivered before the drop: only what follows it is new
    send(second, event('rates.cbr', '1764581400000-0'));
    send(second, event('rates.cbr', '1764581400000-1'));
    send(second, event('rates.cbr', '1764581400000-2'));
    send(second, event('currencies', '1764581400500-0'));
    send(second, event('currencies', '1764581401000-0'));
    await until(() => expect(r.delivered).toHaveLength(5));
    // a last frame on the socket: once it is here, everything sent before it has been handled
    send(second, event('rates.cbr', '1764581402000-0'));
    await until(() => expect(r.delivered).toHaveLength(6));
    expect(r.delivered.map((d) => `${d.channel} ${d.id}`)).toEqual([
      'rates.cbr 1764581400000-0',
      'rates.cbr 1764581400000-1',
      'currencies 1764581400500-0',
      'rates.cbr 1764581400000-2',
      'currencies 1764581401000-0',
      'rates.cbr 1764581402000-0',
    ]);
    expect(session.positions).toEqual(
      new Map([
        ['rates.cbr', '1764581402000-0'],
        ['currencies', '1764581401000-0'],
      ]),
    );
  });

  it('says each connection state: connecting, live, reconnecting (why), and live again', async () => {
    const r = record();
    open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.states.at(-1)?.[0]).toBe('live'));
    peer.conn(0).socket.close(4001, 'gone');
    await until(() => expect(r.states.filter(([s]) => s === 'live')).toHaveLength(2));
    peer.conn(1).socket.close(1001, 'going away');
    await until(() => expect(r.states.filter(([s]) => s === 'live')).toHaveLength(3));
    expect(r.states.map(([s]) => s)).toEqual([
      'connecting',
      'live',
      'reconnecting',
      'connecting',
      'live',
      'reconnecting',
      'connecting',
      'live',
    ]);
    expect(r.states[2]?.[1]).toMatch(/^connection closed \(4001 gone\); again in \d+\.\d s$/);
    expect(r.states[5]?.[1]).toMatch(/^connection closed \(1001 going away\); again in \d+\.\d s$/);
  });

  describe('a live connection closed with 1012 (service restart)', () => {
    it('connects again with no reconnecting state and resumes each channel since its last id, losing and repeating no frame', async () => {
      const r = record();
      const session = open({
        baseUrl: peer.baseUrl,
        token: 'tok-1',
        channels: ['rates.cbr', 'currencies'],
        handlers: r.handlers,
      });
      await until(() => expect(r.states.at(-1)?.[0]).toBe('live'));
      const first = peer.conn(0);
      send(first, event('rates.cbr', '1764581400000-0'));
      send(first, event('currencies', '1764581400500-0'));
      send(first, event('rates.cbr', '1764581400000-1'));
      await until(() => expect(r.delivered).toHaveLength(3));

      first.socket.close(1012, 'service restart');
      await until(() => expect(peer.conns).toHaveLength(2));
      const second = peer.conn(1);
      await until(() => expect(second.ops).toHaveLength(3));
      expect(second.ops).toEqual([
        { op: 'auth', token: 'tok-1' },
        { op: 'subscribe', channel: 'rates.cbr', since: '1764581400000-1' },
        { op: 'subscribe', channel: 'currencies', since: '1764581400500-0' },
      ]);
      await until(() => expect(r.states.filter(([s]) => s === 'live')).toHaveLength(2));
      // the replica that takes over replays from `since` (inclusive here), then goes on live
      send(second, event('rates.cbr', '1764581400000-1'));
      send(second, event('rates.cbr', '1764581400000-2'));
      send(second, event('currencies', '1764581400500-0'));
      send(second, event('currencies', '1764581401000-0'));
      send(second, event('rates.cbr', '1764581402000-0'));
      await until(() => expect(r.delivered).toHaveLength(6));
      expect(r.delivered.map((d) => `${d.channel} ${d.id}`)).toEqual([
        'rates.cbr 1764581400000-0',
        'currencies 1764581400500-0',
        'rates.cbr 1764581400000-1',
        'rates.cbr 1764581400000-2',
        'currencies 1764581401000-0',
        'rates.cbr 1764581402000-0',
      ]);
      // a restart is not a lost connection: live → connecting → live, nothing for a UI to warn about
      expect(r.states).toEqual([
        ['connecting', peer.url],
        ['live', peer.url],
        ['connecting', peer.url],
        ['live', peer.url],
      ]);
      expect(session.positions.get('currencies')).toBe('1764581401000-0');
    });

    it('takes no back-off step: restart after restart, each reconnect is at once and never says reconnecting', async () => {
      const r = record();
      open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
      for (let i = 1; i <= 8; i++) {
        await until(() => expect(r.states.filter(([s]) => s === 'live')).toHaveLength(i));
        peer.conn(i - 1).socket.close(1012, 'service restart');
      }
      await until(() => expect(r.states.filter(([s]) => s === 'live')).toHaveLength(9));
      expect(r.states.map(([s]) => s)).toEqual(Array.from({ length: 9 }, () => ['connecting', 'live']).flat());
      // each connection resumed where the last one was
      expect(peer.conns.slice(1).every((c) => c.ops[0]?.since !== undefined)).toBe(true);
    });

    it('a drop after a restart backs off from the first step, as after any live connection', async () => {
      const r = record();
      open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
      await until(() => expect(r.states.at(-1)?.[0]).toBe('live'));
      peer.conn(0).socket.close(1012, 'service restart');
      await until(() => expect(r.states.filter(([s]) => s === 'live')).toHaveLength(2));
      peer.conn(1).socket.close(4001, 'gone');
      await until(() => expect(r.states.filter(([s]) => s === 'live')).toHaveLength(3));
      expect(r.states.map(([s]) => s)).toEqual([
        'connecting',
        'live',
        'connecting',
        'live',
        'reconnecting',
        'connecting',
        'live',
      ]);
      // the first step of the back-off (200 ms ± 25 %), as after any live connection
      expect(r.states[4]?.[1]).toMatch(/^connection closed \(4001 gone\); again in 0\.[12] s$/);
    });

    it('a 1012 before the connection was live is a failed attempt: it backs off like any other', async () => {
      const r = record();
      let refusals = 2;
      peer.answer = (conn, op) => {
        if (op.op !== 'subscribe') return;
        if (refusals-- > 0) conn.socket.close(1012, 'service restart');
        else send(conn, { type: 'subscribed', channel: op.channel });
      };
      open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
      await until(() => expect(r.states.at(-1)?.[0]).toBe('live'));
      expect(r.states.map(([s]) => s)).toEqual([
        'connecting',
        'reconnecting',
        'connecting',
        'reconnecting',
        'connecting',
        'live',
      ]);
      expect(r.states[1]?.[1]).toMatch(/^the server restarted; again in \d+\.\d s$/);
      expect(peer.conns).toHaveLength(3);
    });
  });

  it('resumes a channel that delivered nothing from when it was first subscribed, and says so', async () => {
    const r = record();
    open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.subscribed).toHaveLength(1));
    peer.conn(0).socket.terminate();
    await until(() => expect(peer.conns[1]?.ops).toHaveLength(1));
    const resume = peer.conn(1).ops[0];
    expect(resume).toMatchObject({ op: 'subscribe', channel: 'rates.cbr', since: expect.stringMatching(/^\d+-0$/) });
    await until(() =>
      expect(r.subscribed).toEqual([
        ['rates.cbr', false],
        ['rates.cbr', true],
      ]),
    );
  });

  it('starts from the given since and skips frames up to it', async () => {
    const r = record();
    open({
      baseUrl: peer.baseUrl,
      channels: ['rates.cbr'],
      since: new Map([['rates.cbr', '1764581400000-5']]),
      handlers: r.handlers,
    });
    await until(() => expect(peer.conns[0]?.ops).toHaveLength(1));
    expect(peer.conn(0).ops[0]).toEqual({ op: 'subscribe', channel: 'rates.cbr', since: '1764581400000-5' });
    send(peer.conn(0), event('rates.cbr', '1764581400000-5'));
    send(peer.conn(0), event('rates.cbr', '1764581400000-6'));
    await until(() => expect(r.delivered).toHaveLength(1));
    send(peer.conn(0), event('rates.cbr', '1764581400000-7'));
    await until(() => expect(r.delivered).toHaveLength(2));
    expect(r.ids()).toEqual(['1764581400000-6', '1764581400000-7']);
  });

  it('delivers each frame with its raw text, and passes a reset on', async () => {
    const r = record();
    open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.subscribed).toHaveLength(1));
    const raw = JSON.stringify(event('rates.cbr', '1764581400000-0', { rate: '81.2345' }));
    send(peer.conn(0), { type: 'reset', channel: 'rates.cbr', reason: 'history_truncated' });
    send(peer.conn(0), raw);
    await until(() => expect(r.delivered).toHaveLength(1));
    expect(r.delivered[0]?.raw).toBe(raw);
    expect(r.resets).toEqual(['rates.cbr']);
  });

  it('subscribes and unsubscribes while connected; frames of a channel left are not delivered', async () => {
    const r = record();
    const session = open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.subscribed).toHaveLength(1));
    session.subscribe('currencies');
    session.subscribe('currencies'); // already followed: nothing sent
    await until(() => expect(r.subscribed).toHaveLength(2));
    session.unsubscribe('rates.cbr');
    session.unsubscribe('rates.cbr');
    await until(() => expect(peer.conn(0).ops).toHaveLength(3));
    expect(peer.conn(0).ops).toEqual([
      { op: 'subscribe', channel: 'rates.cbr' },
      { op: 'subscribe', channel: 'currencies' },
      { op: 'unsubscribe', channel: 'rates.cbr' },
    ]);
    send(peer.conn(0), event('rates.cbr', '1764581400000-0'));
    send(peer.conn(0), event('currencies', '1764581400000-0'));
    await until(() => expect(r.delivered).toHaveLength(1));
    expect(r.delivered[0]?.channel).toBe('currencies');
    // after a reconnect only the channels still followed are subscribed again
    peer.conn(0).socket.terminate();
    await until(() => expect(peer.conns[1]?.ops).toHaveLength(1));
    expect(peer.conn(1).ops).toEqual([{ op: 'subscribe', channel: 'currencies', since: '1764581400000-0' }]);
  });

  it.each([
    ['unauthorized', 'the token is invalid or expired'],
    ['forbidden', 'alerts:… is open to that account and admins only'],
    ['bad_request', 'since is not a frame id'],
  ] as const)(
    'a server error frame %s rejects done with a LiveError of that code, and no reconnect',
    async (code, message) => {
      peer.answer = (conn, op) => {
        if (op.op === 'auth') send(conn, { type: 'error', code, message });
      };
      const r = record();
      const session = open({ baseUrl: peer.baseUrl, token: 'tok-1', channels: ['rates.cbr'], handlers: r.handlers });
      const err: unknown = await session.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LiveError);
      expect(err).toMatchObject({ name: 'LiveError', code, message });
      expect(peer.conns).toHaveLength(1);
      expect(r.states.map(([s]) => s)).toEqual(['connecting']);
    },
  );

  it('a frame that is not JSON rejects done with a LiveError invalid_frame', async () => {
    const r = record();
    const session = open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.subscribed).toHaveLength(1));
    send(peer.conn(0), 'this is not json');
    const err: unknown = await session.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LiveError);
    expect((err as LiveError).code).toBe('invalid_frame');
    expect(peer.conns).toHaveLength(1);
  });

  it('skips a well-formed frame of a kind it does not know', async () => {
    const r = record();
    const session = open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.subscribed).toHaveLength(1));
    send(peer.conn(0), { type: 'something_new', channel: 'rates.cbr' });
    send(peer.conn(0), event('rates.cbr', '1764581400000-0'));
    await until(() => expect(r.delivered).toHaveLength(1));
    session.close();
    await expect(session.done).resolves.toBeUndefined();
  });

  it('fail(error) ends the session and done rejects with exactly that error', async () => {
    const r = record();
    const session = open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], handlers: r.handlers });
    await until(() => expect(r.subscribed).toHaveLength(1));
    class OtherError extends Error {}
    const mine = new OtherError('stop here');
    session.fail(mine);
    session.fail(new Error('a later one'));
    await expect(session.done).rejects.toBe(mine);
    await until(() => expect(peer.wss.clients.size).toBe(0));
  });

  it('aborting the signal closes the session; an aborted signal never connects', async () => {
    const r = record();
    const stop = new AbortController();
    const session = open({ baseUrl: peer.baseUrl, channels: ['rates.cbr'], signal: stop.signal, handlers: r.handlers });
    await until(() => expect(r.subscribed).toHaveLength(1));
    stop.abort();
    await expect(session.done).resolves.toBeUndefined();

    const late = record();
    const already = open({
      baseUrl: peer.baseUrl,
      channels: ['rates.cbr'],
      signal: AbortSignal.abort(),
      handlers: late.handlers,
    });
    await expect(already.done).resolves.toBeUndefined();
    expect(late.states).toEqual([]);
    expect(peer.conns).toHaveLength(1);
  });
});
