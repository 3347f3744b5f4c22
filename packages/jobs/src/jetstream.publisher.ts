// Pipelined JetStream publishing for the outbox relay: a batch is written with plain publishes whose
// replies (the stream's PubAcks) come back on one wildcard inbox subscription, under one timer for
// the batch. Same wire protocol as js.publish, without a request object, timer and stack trace per
// message, which dominated the relay's cost at thousands of jobs a second.
import { createInbox, type Msg, type NatsConnection, type Subscription } from 'nats';

import { msgIdHeaders, type OutgoingMessage } from './jobs.messages.ts';

const decoder = new TextDecoder();

export class JetStreamBatchPublisher {
  private readonly nc: NatsConnection;
  private readonly prefix = createInbox();
  private sub: Subscription | null = null;
  private readonly waiting = new Map<string, (ok: boolean) => void>();
  private seq = 0;

  constructor(nc: NatsConnection) {
    this.nc = nc;
  }

  /** Publishes every message; resolves with whether each was acknowledged by the stream in time. */
  publishAll(messages: readonly OutgoingMessage[], timeoutMs: number): Promise<boolean[]> {
    this.sub ??= this.nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => this.onReply(err, msg) });
    const results = messages.map(() => false);
    if (!messages.length) return Promise.resolve(results);
    return new Promise((resolve) => {
      let left = messages.length;
      const tokens: string[] = [];
      const finish = () => {
        clearTimeout(timer);
        for (const t of tokens) this.waiting.delete(t);
        resolve(results);
      };
      const timer = setTimeout(finish, timeoutMs);
      for (const [i, m] of messages.entries()) {
        const token = String(++this.seq);
        tokens.push(token);
        this.waiting.set(token, (ok) => {
          results[i] = ok;
          if (--left === 0) finish();
        });
        try {
          this.nc.publish(m.subject, m.data, { reply: `${this.prefix}.${token}`, headers: msgIdHeaders(m.msgId) });
        } catch {
          // connection closed: this one failed; the rest may still be answered
          this.waiting.delete(token);
          if (--left === 0) finish();
        }
      }
    });
  }

  close(): void {
    this.sub?.unsubscribe();
    this.sub = null;
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
