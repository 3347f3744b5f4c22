import { describe, expect, it } from 'vitest';

import { Subscription, type WsSession } from './ws.session.ts';

function fakeSession() {
  const sent: string[] = [];
  const session = {
    sendWire: (wire: Buffer) => sent.push(wire.toString()),
    closeSlow: () => sent.push('closed'),
  } as unknown as WsSession;
  return { session, sent };
}

describe('Subscription', () => {
  it('holds live frames while pending, then sends them as they come', () => {
    const { session, sent } = fakeSession();
    const sub = new Subscription(session, 'tasks');
    sub.deliver(Buffer.from('a'), '1-0');
    expect(sent).toEqual([]);
    expect(sub.pending?.map((p) => p.id)).toEqual(['1-0']);
    sub.pending = null;
    sub.deliver(Buffer.from('b'), '2-0');
    expect(sent).toEqual(['b']);
  });

  it('after a replay, skips live frames the replay already sent (a lagging pub/sub connection), then goes live', () => {
    const { session, sent } = fakeSession();
    const sub = new Subscription(session, 'tasks');
    sub.pending = null;
    sub.floor = '1700000000000-8';
    sub.deliver(Buffer.from('old-0'), '1700000000000-0');
    sub.deliver(Buffer.from('old-8'), '1700000000000-8');
    sub.deliver(Buffer.from('new-9'), '1700000000000-9');
    sub.deliver(Buffer.from('new-10'), '1700000000000-10');
    expect(sent).toEqual(['new-9', 'new-10']);
    expect(sub.floor).toBeNull();
  });
});
