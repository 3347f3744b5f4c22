// One Redis subscriber connection per api process, shared by every socket: a channel is
// SUBSCRIBEd while at least one socket holds it (reference-counted) and UNSUBSCRIBEd when the last
// one leaves. Frames arrive as Buffers and are handed to every member as they are: serialized once
// by the notifier, never re-encoded per socket.
import { createHash } from 'node:crypto';

import { compareFrameIds, wsRedis } from '@ratewire/contracts';
import {
  createRedisSubscriber,
  type Logger,
  type Redis,
  type RedisClient,
  type RedisConnectionSettings,
} from '@ratewire/runtime';

import { textFrame } from './ws.wire.ts';

/** A socket's hold on one channel. */
export interface ChannelMember {
  /**
   * One live frame, in id order, never a frame already delivered on this channel; `wire` is the
   * complete WebSocket frame, shared by every member.
   */
  deliver(wire: Buffer, id: string): void;
}

interface ChannelState {
  channel: string;
  headLength: number;
  members: Set<ChannelMember>;
  /** Highest frame id dispatched: later frames with an id at or below it are duplicates. */
  lastId: string | null;
  /** The newest history id when the channel was subscribed: where a catch-up starts if nothing came since. */
  baseline: string | null;
  /** Settles once Redis has acknowledged the SUBSCRIBE (or it failed and awaits a reconnect). */
  ready: Promise<void>;
  /** While catching up after a reconnect: live frames wait here until the history gap is filled. */
  recovering: { wire: Buffer; id: string; tail: Buffer }[] | null;
  /** Digests of the last frames dispatched, without their ids (see `dispatch`). */
  recent: string[];
}

const RECOVERY_ATTEMPTS = 20;
/** Frames per channel remembered by their content, to know one emitted again under a new id. */
const RECENT_FRAMES = 16;
const MAX_RECOVERY_BUFFER = 10_000;

export class ChannelHub {
  private readonly states = new Map<string, ChannelState>();
  private readonly subscriber: Redis;
  private readonly commands: RedisClient;
  private readonly log: Logger;
  private connectedOnce = false;
  private closed = false;
  /** Frames dropped as duplicates (seen again after a reconnect catch-up). */
  duplicates = 0;

  constructor(deps: {
    /** Where the hub's own subscriber connects (a subscribed connection cannot run commands). */
    connection: RedisConnectionSettings;
    /** The commands connection (history reads). */
    redis: RedisClient;
    log: Logger;
  }) {
    const { connection, log } = deps;
    this.commands = deps.redis;
    this.log = log;
    // resubscribing is ours to do (see onReady): a reconnect must also fetch what it missed. In a
    // Redis Cluster this is one node's connection, moving to another node when that one is lost
    // (and 'ready' again, so the gap is filled the same way)
    this.subscriber = createRedisSubscriber(connection, log, 'api-ws-sub');
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    this.subscriber.on('ready', () => this.onReady());
  }

  get channelCount(): number {
    return this.states.size;
  }

  /** Adds a member; resolves once live frames of the channel flow to this process. */
  join(channel: string, member: ChannelMember): Promise<void> {
    const key = wsRedis.pubsubChannel(channel);
    let state = this.states.get(key);
    if (!state) {
      const fresh: ChannelState = {
        channel,
        headLength: Buffer.byteLength(wsRedis.frameHead(channel)),
        members: new Set(),
        lastId: null,
        baseline: null,
        ready: Promise.resolve(),
        recovering: null,
        recent: [],
      };
      fresh.ready = this.subscribe(fresh, key);
      this.states.set(key, fresh);
      state = fresh;
    }
    state.members.add(member);
    return state.ready;
  }

  leave(channel: string, member: ChannelMember): void {
    const key = wsRedis.pubsubChannel(channel);
    const state = this.states.get(key);
    if (!state?.members.delete(member) || state.members.size) return;
    this.states.delete(key);
    if (this.subscriber.status === 'ready') {
      this.subscriber.unsubscribe(key).catch((err: unknown) => this.warn('unsubscribe failed', err, channel));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.states.clear();
    // QUIT would wait in the offline queue forever while Redis is away
    if (this.subscriber.status === 'ready') await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    else this.subscriber.disconnect();
  }

  private async subscribe(state: ChannelState, key: string): Promise<void> {
    try {
      // a SUBSCRIBE queued before the connection is ready races ioredis' CLIENT SETINFO (an error reply)
      await this.whenReady();
      if (this.states.get(key) !== state) return;
      await this.subscriber.subscribe(key);
      // the newest id in history: the point a reconnect catch-up starts from if nothing arrives
      const last = await this.commands.xrevrange(wsRedis.streamKey(state.channel), '+', '-', 'COUNT', 1);
      // not a dedupe mark: live frames up to that id may still be on their way
      state.baseline = last[0]?.[0] ?? '0-0';
    } catch (err) {
      // the reconnect handler subscribes every held channel again
      this.warn('subscribe failed', err, state.channel);
    }
  }

  private onMessage(channelBuf: Buffer, frame: Buffer): void {
    const state = this.states.get(channelBuf.toString('latin1'));
    if (!state) return;
    const end = frame.indexOf(34, state.headLength); // the quote closing the id
    if (end < 0) return;
    const id = frame.toString('latin1', state.headLength, end);
    const tail = frame.subarray(end);
    if (state.recovering) {
      state.recovering.push({ wire: textFrame(frame), id, tail });
      if (state.recovering.length > MAX_RECOVERY_BUFFER) state.recovering.shift();
      return;
    }
    if (state.lastId !== null && compareFrameIds(id, state.lastId) <= 0) {
      this.duplicates++;
      return;
    }
    this.dispatch(state, textFrame(frame), id, tail);
  }

  /**
   * Hands a frame to every member, once. A frame is known by its id, and also by what follows the id
   * (event, data and the time the notifier stamped it with, kept across its retries): a notifier that
   * never got the answer to an emit sends it again, and a Redis that restarted without its data has
   * forgotten the dedupe key, so the same frame comes back under a new id.
   */
  private dispatch(state: ChannelState, wire: Buffer, id: string, tail: Buffer): void {
    if (state.lastId !== null && compareFrameIds(id, state.lastId) <= 0) {
      this.duplicates++;
      return;
    }
    state.lastId = id;
    const digest = createHash('sha256').update(tail).digest('base64');
    if (state.recent.includes(digest)) {
      this.duplicates++;
      return;
    }
    state.recent.push(digest);
    if (state.recent.length > RECENT_FRAMES) state.recent.shift();
    for (const member of state.members) member.deliver(wire, id);
  }

  /** After a reconnect: subscribe every held channel again, then fill the gap from history. */
  private onReady(): void {
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    if (this.closed || !this.states.size) return;
    const states = [...this.states.entries()];
    for (const [, state] of states) state.recovering ??= [];
    void this.recover(states.map(([key]) => key));
  }

  private async recover(keys: string[]): Promise<void> {
    try {
      await this.subscriber.subscribe(...keys);
    } catch (err) {
      this.warn('resubscribe failed', err, keys.join(','));
    }
    await Promise.all(
      keys.map(async (key) => {
        const state = this.states.get(key);
        if (!state) return;
        // no frame and no baseline yet: the channel was never subscribed, so there is no gap to measure
        for (let attempt = 1; attempt <= RECOVERY_ATTEMPTS; attempt++) {
          const from = state.lastId ?? state.baseline;
          if (from === null) break;
          try {
            const entries = await this.commands.xrange(wsRedis.streamKey(state.channel), `(${from}`, '+');
            const head = wsRedis.frameHead(state.channel);
            for (const [id, fields] of entries) {
              const tail = fields[fields.indexOf(wsRedis.tailField) + 1] ?? '';
              this.dispatch(state, textFrame(Buffer.from(head + id + tail)), id, Buffer.from(tail));
            }
            break;
          } catch (err) {
            if (attempt === RECOVERY_ATTEMPTS) this.warn('catch-up after reconnect failed', err, state.channel);
            else await new Promise((r) => setTimeout(r, 250 * attempt));
          }
        }
        const buffered = state.recovering ?? [];
        state.recovering = null;
        for (const { wire, id, tail } of buffered) this.dispatch(state, wire, id, tail);
      }),
    );
    this.log.info({ channels: keys.length }, 'ws channels resubscribed after a Redis reconnect');
  }

  private readyWait: Promise<void> | null = null;
  private whenReady(): Promise<void> {
    if (this.subscriber.status === 'ready') return Promise.resolve();
    this.readyWait ??= new Promise<void>((resolve) =>
      this.subscriber.once('ready', () => {
        this.readyWait = null;
        resolve();
      }),
    );
    return this.readyWait;
  }

  private warn(msg: string, err: unknown, channel: string): void {
    this.log.warn({ err: err instanceof Error ? err.message : String(err), channel }, msg);
  }
}
