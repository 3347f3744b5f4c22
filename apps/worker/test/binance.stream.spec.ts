// The Binance all-market stream against a local WebSocket server speaking Binance's combined-stream
// format, the replay server for REST, the real Postgres and the real NATS.
import { afterEach, describe, expect, it } from 'vitest';

import { getFeedStatus } from '@ratewire/db';
import { waitFor } from '@ratewire/testkit';

import {
  DOCS_FRAME,
  DOCS_SHUTDOWN,
  PRICE_PATH,
  miniTickerFrame,
  rigSymbols,
  startStreamRig,
  type StreamRig,
} from './binance-stream-support.ts';

let rig: StreamRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Each (symbol, price) at most once: nothing announced twice. */
function expectNoRepeats(pairs: [string, string][]) {
  const keys = pairs.map(([s, p]) => `${s}=${p}`);
  expect(keys.length).toBe(new Set(keys).size);
}

/** Starts the stream and brings it live on its first connection with `first` and `snapshot`. */
async function goLive(r: StreamRig, t0: number, first: Record<string, string>, snapshot: Record<string, string>) {
  r.snapshot(snapshot);
  r.stream.start();
  const conn = await r.server.waitForConnection(1);
  await waitFor(() => conn.ws.readyState === conn.ws.OPEN, { what: 'the connection open' });
  r.server.tickers(t0, first);
  await waitFor(() => r.stream.status.state === 'live', { what: 'the stream live' });
  r.server.heartbeat(100);
  return conn;
}

describe('switching to the stream', () => {
  it('buffers, takes the snapshot, applies only what is newer than it: no price lost, none repeated, none older', async () => {
    const [A, B, C, D] = rigSymbols(4) as [string, string, string, string];
    rig = await startStreamRig([A, B, C, D]);
    const r = rig;
    const t0 = Date.now();
    let held = false;
    // the snapshot request is held while the market moves: one frame newer than it, one older
    r.replay.respond(PRICE_PATH, async () => {
      held = true;
      r.server.tickers(t0 + 1000, { [A]: '101.50', [B]: '202.5' });
      r.server.send(miniTickerFrame(t0 - 500, { [C]: '0.5' })); // out of order: before the first frame
      await waitFor(() => r.stream.stats.frames >= 3, { what: 'the frames sent during the snapshot' });
      // what ticker/price says: A and B as of before the new frame, C and D unchanged
      return { json: [A, B, C, D].map((s, i) => ({ symbol: s, price: ['101.00', '200.0', '299.0', '400.0'][i] })) };
    });
    r.stream.start();
    await r.server.waitForConnection(1);
    await waitFor(() => r.server.open().length === 1, { what: 'the connection open' });
    r.server.tickers(t0, { [A]: '100.00', [C]: '299.0' }); // the first frame: the snapshot is taken after it
    await waitFor(() => r.stream.status.state === 'live', { what: 'the stream live' });
    expect(held).toBe(true);
    // live: the next changes apply at once; a repeat of the same event and an equal price write nothing
    r.server.tickers(t0 + 2000, { [D]: '401.0', [A]: '101.50' });
    r.server.send(miniTickerFrame(t0 + 2000, { [D]: '401.0' }));
    await waitFor(async () => (await r.prices())[D] === '401.0', { what: 'the live frame applied' });

    expect(await r.prices()).toEqual({ [A]: '101.50', [B]: '202.5', [C]: '299.0', [D]: '401.0' });
    expect(await r.history(A)).toEqual(['101.00', '101.50']);
    expect(await r.history(B)).toEqual(['200.0', '202.5']);
    expect(await r.history(C)).toEqual(['299.0']);
    expect(await r.history(D)).toEqual(['400.0', '401.0']);
    const announced = await r.announced();
    expectNoRepeats(announced);
    expect(announced).toEqual(
      expect.arrayContaining([
        [A, '101.00'],
        [A, '101.50'],
        [B, '200.0'],
        [B, '202.5'],
        [C, '299.0'],
        [D, '400.0'],
        [D, '401.0'],
      ]),
    );
    expect(announced).toHaveLength(7);
    expect(r.restPolls()).toBe(1);
    expect(r.poller.active).toBe(false);
    await waitFor(async () => (await getFeedStatus(r.database.db, 'binance'))?.mode === 'stream', {
      what: 'feed_status mode stream',
    });
    expect(await getFeedStatus(r.database.db, 'binance')).toMatchObject({
      mode: 'stream',
      mode_setting: 'auto',
      consecutive_failures: 0,
    });
  });

  it('the stream writes with the frame’s event time, through the snapshot path, and publishes rates.binance.updated', async () => {
    const [A] = rigSymbols(1) as [string];
    rig = await startStreamRig([A]);
    const t0 = Date.now();
    await goLive(rig, t0, { [A]: '1.0' }, { [A]: '1.0' });
    rig.server.tickers(t0 + 1000, { [A]: '1.25' });
    await waitFor(async () => (await rig!.prices())[A] === '1.25', { what: 'the frame applied' });
    const row = await rig.database.db
      .selectFrom('binance_price_history')
      .select(['observed_at'])
      .where('symbol', '=', A)
      .where('price', '=', '1.25')
      .executeTakeFirstOrThrow();
    expect(row.observed_at.getTime()).toBe(t0 + 1000);
    await rig.events.settle(rig.nats);
    const last = rig.events.messages.at(-1)!.data;
    expect(last).toEqual({
      ts: new Date(t0 + 1000).toISOString(),
      changed: [{ symbol: A, price: '1.25', previous: '1.0' }],
    });
  });
});

describe('auto: falling back to polling and back', () => {
  it('a silent stream hands over to polling; when frames flow again it switches back through a snapshot, losing nothing', async () => {
    const [A, B] = rigSymbols(2) as [string, string];
    rig = await startStreamRig([A, B], { silenceMs: 600 });
    const r = rig;
    const t0 = Date.now();
    await goLive(r, t0, { [A]: '10' }, { [A]: '10', [B]: '20' });

    // silence: no frame at all (the socket stays open)
    r.server.heartbeat(0);
    await waitFor(() => r.stream.status.mode === 'polling', { what: 'the fallback to polling' });
    expect(r.poller.active).toBe(true);
    await waitFor(async () => (await getFeedStatus(r.database.db, 'binance'))?.mode === 'polling', {
      what: 'feed_status mode polling',
    });
    // polling carries the prices meanwhile
    r.snapshot({ [A]: '11', [B]: '21' });
    await waitFor(async () => (await r.prices())[A] === '11', { what: 'a polled price' });

    // the stream keeps reconnecting in the background; the first connection to get a frame
    // starts the switch back (the snapshot then knows A's new price too)
    await r.server.waitForConnection(2);
    r.snapshot({ [A]: '12', [B]: '21' });
    r.server.tickers(t0 + 60_000, { [A]: '12' });
    r.server.heartbeat(100);
    await waitFor(() => r.stream.status.mode === 'stream' && r.stream.status.state === 'live', {
      what: 'back on the stream',
    });
    expect(r.poller.active).toBe(false);
    r.server.tickers(t0 + 61_000, { [B]: '22' });
    await waitFor(async () => (await r.prices())[B] === '22', { what: 'a streamed price after the switch back' });

    expect(await r.history(A)).toEqual(['10', '11', '12']);
    expect(await r.history(B)).toEqual(['20', '21', '22']);
    expectNoRepeats(await r.announced());
    await waitFor(async () => (await getFeedStatus(r.database.db, 'binance'))?.mode === 'stream', {
      what: 'feed_status mode stream again',
    });
  });

  it('a stream that cannot connect at all leaves polling on, and retries in the background', async () => {
    const [A] = rigSymbols(1) as [string];
    rig = await startStreamRig([A]);
    const r = rig;
    r.server.refuse(true);
    r.snapshot({ [A]: '5' });
    r.stream.start();
    await waitFor(() => r.stream.stats.failures >= 3, { what: 'several refused connections' });
    expect(r.stream.status.mode).toBe('polling');
    await waitFor(async () => (await r.prices())[A] === '5', { what: 'the polled price' });
    const row = await getFeedStatus(r.database.db, 'binance');
    expect(row?.mode).toBe('polling');

    r.server.refuse(false);
    const conn = await r.server.waitForConnection(1);
    await waitFor(() => conn.ws.readyState === conn.ws.OPEN, { what: 'the connection open' });
    r.snapshot({ [A]: '5.5' });
    r.server.tickers(Date.now(), { [A]: '5.5' });
    await waitFor(() => r.stream.status.mode === 'stream', { what: 'the stream taking over' });
    await waitFor(async () => (await r.prices())[A] === '5.5', { what: 'the streamed price' });
    expect(r.poller.active).toBe(false);
  });
});

describe('on: the stream only', () => {
  it('a closed connection is reopened with backoff and resynced; the poller never runs on its own', async () => {
    const [A] = rigSymbols(1) as [string];
    rig = await startStreamRig([A], { setting: 'on' });
    const r = rig;
    const t0 = Date.now();
    const first = await goLive(r, t0, { [A]: '1' }, { [A]: '1' });
    await waitFor(async () => (await getFeedStatus(r.database.db, 'binance'))?.mode_setting === 'on', {
      what: 'feed_status setting on',
    });
    expect(await getFeedStatus(r.database.db, 'binance')).toMatchObject({ mode: 'stream', mode_setting: 'on' });

    // A moves while no connection is open: the snapshot after the reconnect brings it
    r.server.heartbeat(0);
    r.snapshot({ [A]: '2' });
    first.ws.close(1001, 'going away');
    const second = await r.server.waitForConnection(2);
    expect(r.poller.active).toBe(false);
    expect(r.stream.status.mode).toBe('stream');
    await waitFor(() => second.ws.readyState === second.ws.OPEN, { what: 'the new connection open' });
    r.server.tickers(t0 + 5000, { [A]: '2' }, [second]);
    await waitFor(() => r.stream.status.state === 'live', { what: 'live again' });
    r.server.tickers(t0 + 6000, { [A]: '2.5' }, [second]);
    await waitFor(async () => (await r.prices())[A] === '2.5', { what: 'the price after the reconnect' });
    expect(await r.history(A)).toEqual(['1', '2', '2.5']);
    expect(r.poller.active).toBe(false);
    expect(r.restPolls()).toBe(2);
  });
});

describe('rotation', () => {
  it('serverShutdown: a second connection opens, the first keeps delivering until the second does, no gap, no duplicate', async () => {
    const [A, B] = rigSymbols(2) as [string, string];
    rig = await startStreamRig([A, B]);
    const r = rig;
    const t0 = Date.now();
    const first = await goLive(r, t0, { [A]: '1' }, { [A]: '1', [B]: '2' });
    r.server.heartbeat(0);
    const polls = r.restPolls();

    r.server.send(DOCS_SHUTDOWN, [first]);
    const second = await r.server.waitForConnection(2);
    await waitFor(() => second.ws.readyState === second.ws.OPEN, { what: 'the replacement open' });
    // the old connection still delivers, and is still used
    r.server.tickers(t0 + 1000, { [A]: '1.1' }, [first]);
    await waitFor(async () => (await r.prices())[A] === '1.1', { what: 'a frame on the old connection' });
    expect(first.closed).toBe(false);
    // the same events on both: one applied, the old connection closed after the new one delivered
    r.server.tickers(t0 + 2000, { [A]: '1.2', [B]: '2.2' }, [first, second]);
    await waitFor(() => first.closed, { what: 'the old connection closed' });
    r.server.tickers(t0 + 3000, { [B]: '2.3' }, [second]);
    await waitFor(async () => (await r.prices())[B] === '2.3', { what: 'a frame on the new connection' });

    expect(await r.history(A)).toEqual(['1', '1.1', '1.2']);
    expect(await r.history(B)).toEqual(['2', '2.2', '2.3']);
    expectNoRepeats(await r.announced());
    expect(r.stream.stats.rotations).toBe(1);
    // no gap to fill: no snapshot taken
    expect(r.restPolls()).toBe(polls);
    expect(r.stream.status.state).toBe('live');
  });

  it('a connection nearing its age limit is replaced the same way, again and again, without a snapshot', async () => {
    const [A] = rigSymbols(1) as [string];
    rig = await startStreamRig([A], { rotateAfterMs: 400 });
    const r = rig;
    const t0 = Date.now();
    await goLive(r, t0, { [A]: '1' }, { [A]: '1' });
    const polls = r.restPolls();
    await waitFor(() => r.stream.stats.rotations >= 2, { what: 'two rotations' });
    r.server.tickers(t0 + 9000, { [A]: '1.5' });
    await waitFor(async () => (await r.prices())[A] === '1.5', { what: 'a frame after the rotations' });
    expect(r.restPolls()).toBe(polls);
    expect(r.server.open().length).toBeLessThanOrEqual(2);
    expect(await r.history(A)).toEqual(['1', '1.5']);
  });
});

describe('ping', () => {
  it('answers a ping with a pong carrying the same payload', async () => {
    const [A] = rigSymbols(1) as [string];
    rig = await startStreamRig([A]);
    const conn = await goLive(rig, Date.now(), { [A]: '1' }, { [A]: '1' });
    const payload = Buffer.from(`ratewire-${Math.random().toString(36).slice(2)}`);
    conn.ws.ping(payload);
    await waitFor(() => conn.pongs.length > 0, { what: 'the pong' });
    expect(conn.pongs[0]!.equals(payload)).toBe(true);
  });
});

describe('malformed frames', () => {
  it('are logged (rate-limited) and dropped; good entries of a frame are kept; the connection and the worker carry on', async () => {
    const [A, B] = rigSymbols(2) as [string, string];
    rig = await startStreamRig([A, B], { maxFrameBytes: 64 * 1024, dropLogMs: 60_000 });
    const r = rig;
    const t0 = Date.now();
    await goLive(r, t0, { [A]: '1' }, { [A]: '1', [B]: '2' });
    const connects = r.stream.stats.connects;
    const entry = (s: string, c: unknown, extra: Record<string, unknown> = {}) => ({
      ...(JSON.parse(DOCS_FRAME) as { data: Record<string, unknown>[] }).data[0],
      E: t0 + 1000,
      s,
      c,
      ...extra,
    });
    const badFrames: (string | Buffer)[] = [
      'not json {',
      '{"stream":"!miniTicker@arr","data":[',
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('latin1'),
      '[]',
      'null',
      JSON.stringify({ stream: 'btcusdt@trade', data: [entry(A, '9')] }),
      JSON.stringify({ stream: '!miniTicker@arr', data: { s: A, c: '9' } }),
      JSON.stringify({ data: [entry(A, '9')] }),
      `{"stream":"!miniTicker@arr","data":[${JSON.stringify(entry(A, '9'))}],"pad":"${'x'.repeat(100 * 1024)}"}`,
    ];
    for (const f of badFrames) r.server.send(f);
    r.server.send(Buffer.from(miniTickerFrame(t0 + 1000, { [A]: '9' })), undefined, true); // binary frame
    // one frame, good and bad entries: the good one stays
    r.server.send(
      JSON.stringify({
        stream: '!miniTicker@arr',
        data: [
          entry(A, '1e5'),
          entry(A, '-1'),
          entry(A, 12),
          entry(A, 'NaN'),
          entry(A, '9', { E: 'yesterday' }),
          entry(A, '9', { e: '24hrTicker' }),
          'BTCUSDT',
          null,
          entry('bnbbtc', '9'),
          entry(B, '0.00000000'),
          entry(B, '2.5'),
        ],
      }),
    );
    await waitFor(async () => (await r.prices())[B] === '2.5', { what: 'the good entry applied' });
    r.server.tickers(t0 + 2000, { [A]: '1.5' });
    await waitFor(async () => (await r.prices())[A] === '1.5', { what: 'a good frame after the bad ones' });

    expect(await r.prices()).toEqual({ [A]: '1.5', [B]: '2.5' });
    expect(await r.history(A)).toEqual(['1', '1.5']);
    expect(r.stream.stats.droppedFrames).toBe(badFrames.length + 1);
    expect(r.stream.stats.droppedEntries).toBe(8);
    // the same connection throughout
    expect(r.stream.stats.connects).toBe(connects);
    expect(r.stream.status.state).toBe('live');
    const warned = r.lines.filter((l) => l.msg.startsWith('binance stream:') && l.msg.includes('dropped'));
    expect(warned).toHaveLength(1); // one line per minute at most
    expect(warned[0]!.msg).toMatch(/frame dropped: not JSON/);
  });

  it('each kind of malformed frame says what was wrong when logged', async () => {
    const [A] = rigSymbols(1) as [string];
    rig = await startStreamRig([A], { maxFrameBytes: 1024, dropLogMs: 0 });
    const r = rig;
    await goLive(r, Date.now(), { [A]: '1' }, { [A]: '1' });
    r.server.send('{oops');
    r.server.send(JSON.stringify({ stream: '!ticker@arr', data: [] }));
    r.server.send(`{"stream":"!miniTicker@arr","data":[],"pad":"${'x'.repeat(2048)}"}`);
    r.server.send(
      JSON.stringify({ stream: '!miniTicker@arr', data: [{ e: '24hrMiniTicker', E: Date.now(), s: A, c: '1,5' }] }),
    );
    await waitFor(() => r.lines.length >= 4, { what: 'four warnings' });
    const msgs = r.lines.map((l) => l.msg).join('\n');
    expect(msgs).toMatch(/not JSON/);
    expect(msgs).toMatch(/not the !miniTicker@arr stream/);
    expect(msgs).toMatch(/over the 1024-byte cap/);
    expect(msgs).toMatch(/price "1,5" is not a decimal/);
    expect(r.stream.status.state).toBe('live');
  });
});

describe('leadership', () => {
  it('stop() closes the connections and nothing more is written', async () => {
    const [A] = rigSymbols(1) as [string];
    rig = await startStreamRig([A]);
    const r = rig;
    const t0 = Date.now();
    const conn = await goLive(r, t0, { [A]: '1' }, { [A]: '1' });
    await r.stream.stop();
    await waitFor(() => conn.closed, { what: 'the connection closed' });
    expect(r.stream.status.state).toBe('idle');
    expect(r.server.open()).toHaveLength(0);
    expect(await r.prices()).toEqual({ [A]: '1' });
  });
});
