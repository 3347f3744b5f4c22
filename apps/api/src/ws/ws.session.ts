// One socket of /ws: its ops (handled one at a time, in order), its subscriptions, and every
// send (checked against the socket's backlog first).
import {
  WS_CHANNEL_RE,
  compareFrameIds,
  WS_DEFAULT_CHANNELS,
  WS_ALERT_CHANNEL_RE,
  WS_JOB_CHANNEL_RE,
  WS_LIMITS,
  WS_TASK_CHANNEL_MESSAGE,
  wsClientOp,
  type WsClientOp,
  type WsErrorCode,
} from '@ratewire/contracts';
import type { Logger } from '@ratewire/runtime';
import type { WebSocket, RawData } from 'ws';

import type { AuthUser } from '../http/request-context.ts';
import type { ChannelHub, ChannelMember } from './ws.channels.ts';
import type { Replay } from './ws.history.ts';
import { rawSocket } from './ws.wire.ts';

/** Ops a socket may send per second before it is closed as a flood (1008). */
export const MAX_OPS_PER_SECOND = 200;
/** Ops waiting for their turn (e.g. behind a slow history read) before the socket is closed. */
const MAX_QUEUED_OPS = 256;
/** A slow socket gets this long to take its close frame before it is cut off. */
const SLOW_CLOSE_GRACE_MS = 5000;
const HISTORY_ATTEMPTS = 10;

export interface GatewayStats {
  framesSent: number;
  slowCloses: number;
  floodCloses: number;
  heartbeatDrops: number;
}

/** What a session needs from the gateway. */
export interface GatewayContext {
  hub: ChannelHub;
  log: Logger;
  stats: GatewayStats;
  /**
   * The account a token names, as it is now, in a session still live (the same check as REST
   * bearer tokens, cached per process); null when refused.
   */
  verifyToken(token: string): Promise<AuthUser | null>;
  /** The owner of a job, or null when there is no such job. */
  jobOwner(jobId: string): Promise<string | null>;
  readSince(channel: string, since: string): Promise<Replay>;
}

const textOf = (data: RawData): string =>
  Buffer.isBuffer(data)
    ? data.toString()
    : Array.isArray(data)
      ? Buffer.concat(data).toString()
      : Buffer.from(new Uint8Array(data)).toString();

/** A frame that did not validate: answered with bad_request in its turn. */
interface Rejected {
  op: 'rejected';
  message: string;
}

/** A socket's hold on one channel; buffers live frames while the history replay is sent. */
export class Subscription implements ChannelMember {
  readonly session: WsSession;
  readonly channel: string;
  pending: { wire: Buffer; id: string }[] | null = [];
  /** Set on default subscriptions about to be dropped, so a channel taken over explicitly is not sent twice. */
  muted = false;

  constructor(session: WsSession, channel: string) {
    this.session = session;
    this.channel = channel;
  }

  /**
   * After a `since` replay, the newest id sent. This replica's pub/sub connection can lag behind the
   * history read (another connection), so live frames the replay already sent may still arrive;
   * they are skipped until the first newer one (live frames arrive in id order).
   */
  floor: string | null = null;

  deliver(wire: Buffer, id: string): void {
    if (this.muted) return;
    if (this.pending) {
      this.pending.push({ wire, id });
      if (this.pending.length > 10_000) this.session.closeSlow();
      return;
    }
    if (this.floor !== null) {
      if (compareFrameIds(id, this.floor) <= 0) return;
      this.floor = null;
    }
    this.session.sendWire(wire);
  }
}

export class WsSession {
  readonly ws: WebSocket;
  private readonly ctx: GatewayContext;
  user: AuthUser | null = null;
  /** The token the socket authenticated with: checked again (its session, the role now) before each private channel. */
  private token: string | null = null;
  /** Answered the last heartbeat ping. */
  alive = true;
  private subs: Map<string, Subscription> | null = null;
  /** Default subscriptions, as the Currency-API service’s /ws had, held until the first subscribe op. */
  private implicit: Subscription[] | null = null;
  /** Ops (and answers to invalid frames) waiting their turn: every frame is answered in order. */
  private queue: (WsClientOp | Rejected)[] | null = null;
  private windowStart = 0;
  private windowOps = 0;
  private closed = false;

  constructor(ws: WebSocket, ctx: GatewayContext) {
    this.ws = ws;
    this.ctx = ctx;
  }

  /** Greets the client and joins the default channels; `token` from the URL authenticates first. */
  start(token: string | null): void {
    this.sendJson({ type: 'welcome' });
    this.implicit = WS_DEFAULT_CHANNELS.map((channel) => {
      const sub = new Subscription(this, channel);
      sub.pending = null;
      void this.ctx.hub.join(channel, sub);
      return sub;
    });
    if (token !== null) this.enqueue({ op: 'auth', token });
  }

  onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowOps = 0;
    }
    if (++this.windowOps > MAX_OPS_PER_SECOND) {
      this.ctx.stats.floodCloses++;
      this.ws.close(1008, 'too many messages');
      this.dispose();
      return;
    }
    if (isBinary) return this.enqueue({ op: 'rejected', message: 'frames are JSON text' });
    let json: unknown;
    try {
      json = JSON.parse(textOf(data));
    } catch {
      return this.enqueue({ op: 'rejected', message: 'frame is not valid JSON' });
    }
    const parsed = wsClientOp.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      return this.enqueue({ op: 'rejected', message: `${where}${issue?.message ?? 'invalid op'}` });
    }
    this.enqueue(parsed.data);
  }

  private enqueue(op: WsClientOp | Rejected): void {
    if (this.queue) {
      if (this.queue.length >= MAX_QUEUED_OPS) {
        this.ctx.stats.floodCloses++;
        this.ws.close(1008, 'too many pending requests');
        this.dispose();
        return;
      }
      this.queue.push(op);
      return;
    }
    this.queue = [op];
    void this.drain();
  }

  private async drain(): Promise<void> {
    while (this.queue?.length && !this.closed) {
      const op = this.queue.shift()!;
      try {
        await this.handle(op);
      } catch (err) {
        this.ctx.log.warn({ err: err instanceof Error ? err.message : String(err), op: op.op }, 'ws op failed');
        this.error('bad_request', 'the request could not be handled; try again');
      }
    }
    this.queue = null;
  }

  private async handle(op: WsClientOp | Rejected): Promise<void> {
    switch (op.op) {
      case 'rejected':
        return this.error('bad_request', op.message);
      case 'ping':
        return this.sendJson({ type: 'pong' });
      case 'auth': {
        const user = await this.ctx.verifyToken(op.token);
        if (!user) return this.error('unauthorized', 'the token is invalid or expired');
        this.user = user;
        this.token = op.token;
        return this.sendJson({ type: 'authenticated', user_id: user.id });
      }
      case 'unsubscribe':
        return this.unsubscribe(op.channel);
      case 'subscribe':
        return this.subscribe(op.channel, op.since);
    }
  }

  private async subscribe(channel: string, since: string | undefined): Promise<void> {
    if (!WS_CHANNEL_RE.test(channel)) {
      // tasks:<task_id> is open to anyone who knows the id: only its form is checked
      const message = channel.startsWith('tasks:') ? WS_TASK_CHANNEL_MESSAGE : `no channel named ${channel}`;
      return this.error('unknown_channel', message);
    }
    this.subs ??= new Map();
    if (this.subs.has(channel)) return this.sendJson({ type: 'subscribed', channel });
    if (this.subs.size >= WS_LIMITS.maxSubscriptions) {
      return this.error('too_many', `at most ${WS_LIMITS.maxSubscriptions} subscriptions per socket`);
    }
    const job = WS_JOB_CHANNEL_RE.exec(channel);
    if (job && !(await this.mayFollowJob(job[1]!))) {
      return this.error('forbidden', `${channel} is open to the job's owner and admins only`);
    }
    const alerts = WS_ALERT_CHANNEL_RE.exec(channel);
    if (alerts && !(await this.mayFollowAlertsOf(alerts[1]!))) {
      return this.error('forbidden', `${channel} is open to that account and admins only`);
    }
    if (this.closed) return;
    const sub = new Subscription(this, channel);
    this.subs.set(channel, sub);
    if (this.implicit) for (const s of this.implicit) s.muted = true;
    await this.ctx.hub.join(channel, sub);
    this.dropImplicit();
    if (this.closed) return;
    this.sendJson({ type: 'subscribed', channel });
    // live frames are buffered in `sub.pending` since join(): history first, then those not replayed
    let last: string | null = null;
    if (since !== undefined) {
      last = since;
      const replay = await this.readHistory(channel, since);
      if (this.closed || this.subs.get(channel) !== sub) return;
      if (replay.truncated) this.sendJson({ type: 'reset', channel, reason: 'history_truncated' });
      for (const { wire, id } of replay.frames) {
        this.sendWire(wire);
        last = id;
      }
    }
    const pending = sub.pending ?? [];
    sub.pending = null;
    for (const { wire, id } of pending) {
      if (last === null || compareFrameIds(id, last) > 0) {
        this.sendWire(wire);
        last = id;
      }
    }
    sub.floor = last;
  }

  private async readHistory(channel: string, since: string) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ctx.readSince(channel, since);
      } catch (err) {
        // Redis blinking: retry for a while; past that the client is told to reload
        if (attempt >= HISTORY_ATTEMPTS || this.closed) {
          this.ctx.log.warn({ err: err instanceof Error ? err.message : String(err), channel }, 'history read failed');
          return { truncated: true, frames: [] };
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private unsubscribe(channel: string): void {
    const sub = this.subs?.get(channel);
    if (sub) {
      this.subs!.delete(channel);
      this.ctx.hub.leave(channel, sub);
      return;
    }
    const implicit = this.implicit?.find((s) => s.channel === channel);
    if (implicit) {
      this.implicit = this.implicit!.filter((s) => s !== implicit);
      this.ctx.hub.leave(channel, implicit);
    }
  }

  /**
   * jobs:<id> is open to the job's owner and to admins (the role the account has now), while the
   * session the socket authenticated with is live (a logout ends it for the socket too). A job that
   * does not exist is forbidden to everyone, admins included: the answer never tells whether an id exists.
   */
  private async mayFollowJob(jobId: string): Promise<boolean> {
    if (!this.user || !this.token) return false;
    const [owner, user] = await Promise.all([this.ctx.jobOwner(jobId), this.ctx.verifyToken(this.token)]);
    if (owner === null || user === null) return false;
    return owner === user.id || user.role === 'admin';
  }

  /**
   * alerts:<user_id> is open to that account and to admins (the role now), while the session the
   * socket authenticated with is live.
   */
  private async mayFollowAlertsOf(userId: string): Promise<boolean> {
    if (!this.user || !this.token) return false;
    const user = await this.ctx.verifyToken(this.token);
    if (user === null) return false;
    return user.id === userId || user.role === 'admin';
  }

  private dropImplicit(): void {
    if (!this.implicit) return;
    for (const sub of this.implicit) this.ctx.hub.leave(sub.channel, sub);
    this.implicit = null;
  }

  /** Sends a complete event frame unless the socket is too far behind, which closes it (1013). */
  sendWire(wire: Buffer): void {
    const ws = this.ws;
    if (ws.readyState !== 1 || this.closed) return;
    if (ws.bufferedAmount > WS_LIMITS.maxBufferedBytes) return this.closeSlow();
    const socket = rawSocket(ws);
    if (!socket) return;
    socket.write(wire);
    this.ctx.stats.framesSent++;
  }

  sendJson(frame: object): void {
    if (this.ws.readyState !== 1 || this.closed) return;
    if (this.ws.bufferedAmount > WS_LIMITS.maxBufferedBytes) return this.closeSlow();
    this.ws.send(JSON.stringify(frame));
  }

  private error(code: WsErrorCode, message: string): void {
    this.sendJson({ type: 'error', code, message });
  }

  /** Too far behind: close with 1013 and stop sending; cut the connection if it cannot even take that. */
  closeSlow(): void {
    if (this.closed) return;
    this.ctx.stats.slowCloses++;
    this.ws.close(1013, 'too slow: unsent data over 1 MiB');
    const ws = this.ws;
    setTimeout(() => ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
    this.dispose();
  }

  /** Leaves every channel; called once the socket closes (or is being closed). */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = null;
    this.dropImplicit();
    if (this.subs) {
      for (const sub of this.subs.values()) this.ctx.hub.leave(sub.channel, sub);
      this.subs = null;
    }
  }
}
