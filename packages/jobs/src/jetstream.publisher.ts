// Pipelined JetStream publishing for the outbox relay: a batch is written with plain publishes whose
// replies (the stream's PubAcks) come back on one wildcard inbox subscription, under one timer for
// the batch. Same wire protocol as js.publish, without a request object, timer and stack trace per
// message, which dominated the relay's cost at thousands of jobs a second.
//
// The publisher follows the connection's status. The NATS client drops what it buffered for the
// server each time it dials again, so a publish made while the connection is down never reaches the
// stream and its ack never comes: a batch is therefore not sent while the connection is down, and a
// batch waiting for acks when the connection drops ends at once (its rows are published again by a
// later round, under the same Nats-Msg-Id). `onReconnect` is told when the connection is back, so
// the relay can start a round then rather than when a backoff ends.
import { Events, createInbox, type Msg, type NatsConnection, type Status, type Subscription } from 'nats';

import { msgIdHeaders, type OutgoingMessage } from './jobs.messages.ts';

const decoder = new TextDecoder();

export interface PublishOutcome {
  /** Whether each message was acknowledged by the stream. */
  acked: boolean[];
  /** Messages neither acknowledged nor refused when the batch's timeout came. */
  unanswered: number;
  /** The batch was not sent, or its wait was ended, because the connection was down. */
  disconnected: boolean;
}

export interface JetStreamBatchPublisherOptions {
  /** Told each time the connection is re-established after it was lost. */
  onReconnect?: () => void;
}

interface Batch {
  /** Ends the batch's wait now (the connection dropped). */
  abandon: () => void;
}

export class JetStreamBatchPublisher {
  private readonly nc: NatsConnection;
  private readonly prefix = createInbox();
  private sub: Subscription | null = null;
  private readonly waiting = new Map<string, (ok: boolean) => void>();
  private readonly batches = new Set<Batch>();
  private seq = 0;
  private up = true;
  private readonly status: AsyncIterable<Status>;

  constructor(nc: NatsConnection, options: JetStreamBatchPublisherOptions = {}) {
    this.nc = nc;
    this.status = nc.status();
    void this.follow(options.onReconnect ?? (() => {}));
  }

  /** Whether the connection is up, as far as its status events tell. */
  get connected(): boolean {
    return this.up && !this.nc.isClosed();
  }

  /** Publishes every message; resolves with which the stream acknowledged before the timeout. */
  publishAll(messages: readonly OutgoingMessage[], timeoutMs: number): Promise<PublishOutcome> {
    const acked = messages.map(() => false);
    if (!messages.length) return Promise.resolve({ acked, unanswered: 0, disconnected: false });
    if (!this.connected) return Promise.resolve({ acked, unanswered: 0, disconnected: true });
    this.sub ??= this.nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => this.onReply(err, msg) });
    return new Promise((resolve) => {
      let left = messages.length;
      const tokens: string[] = [];
      const finish = (why: 'answered' | 'timeout' | 'disconnected') => {
        clearTimeout(timer);
        this.batches.delete(batch);
        for (const t of tokens) this.waiting.delete(t);
        resolve({ acked, unanswered: why === 'answered' ? 0 : left, disconnected: why === 'disconnected' });
      };
      const batch: Batch = { abandon: () => finish('disconnected') };
      this.batches.add(batch);
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      for (const [i, m] of messages.entries()) {
        const token = String(++this.seq);
        tokens.push(token);
        this.waiting.set(token, (ok) => {
          acked[i] = ok;
          if (--left === 0) finish('answered');
        });
        try {
          this.nc.publish(m.subject, m.data, { reply: `${this.prefix}.${token}`, headers: msgIdHeaders(m.msgId) });
        } catch {
          // connection closed: this one failed; the rest may still be answered
          this.waiting.delete(token);
          if (--left === 0) finish('answered');
        }
      }
    });
  }

  close(): void {
    // the client's status iterators have stop() (the type does not say so); it ends follow()
    (this.status as Partial<{ stop: () => void }>).stop?.();
    this.sub?.unsubscribe();
    this.sub = null;
  }

  private async follow(onReconnect: () => void): Promise<void> {
    for await (const s of this.status) {
      if (s.type === Events.Disconnect) {
        this.up = false;
        // what these batches sent is lost with the connection's buffers: no ack will come
        for (const batch of [...this.batches]) batch.abandon();
      } else if (s.type === Events.Reconnect) {
        this.up = true;
        onReconnect();
      }
    }
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err) return;
    const token = msg.subject.slice(this.prefix.length + 1);
    const done = this.waiting.get(token);
    if (!done) return;
    this.waiting.delete(token);
    // a status reply (503: no stream for the subject) carries no PubAck
    if (msg.headers?.hasError || !msg.data.length) return done(false);
    try {
      const ack = JSON.parse(decoder.decode(msg.data)) as { seq?: unknown; error?: unknown };
      done(ack.error === undefined && typeof ack.seq === 'number');
    } catch {
      done(false);
    }
  }
}
