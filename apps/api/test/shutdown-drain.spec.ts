// Stopping the api without a gap for its clients: first /readyz says `draining` while REST and /ws
// are still served (SHUTDOWN_DRAIN_MS), then the server stops accepting — an idle keep-alive
// connection is closed, a request still being received is answered with `Connection: close`, an
// upgrade still being received is dropped unanswered (a balancer retries it on another replica),
// every socket is closed with 1012 (service restart) — and only then the rest of the shutdown runs.
import { connect, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { startTestApi, type TestApi } from './harness.ts';
import { WsClient } from './ws-harness.ts';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A raw HTTP/1.1 connection: what the server wrote, and whether it closed the connection. */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  let received = '';
  let ended = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('close', () => (ended = true));
  socket.on('error', () => {});
  return {
    socket,
    write: (text: string) => socket.write(text),
    get received() {
      return received;
    },
    get ended() {
      return ended;
    },
  };
}

const poll = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('api shutdown with SHUTDOWN_DRAIN_MS', () => {
  it('answers /readyz 503 draining while REST and /ws are still served, then stops accepting', async () => {
    api = await startTestApi({ SHUTDOWN_DRAIN_MS: '1500' });
    const { url } = api;
    const wsUrl = `${url.replace('http', 'ws')}/ws`;
    const before = await fetch(`${url}/readyz`);
    expect(before.status).toBe(200);
    expect(((await before.json()) as { status: string }).status).toBe('ok');

    const socket = await WsClient.open(wsUrl);
    await socket.subscribe('tasks');
    // one answered request on a keep-alive connection, which then sits idle
    const idle = rawConnection(url);
    idle.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await poll(() => idle.received.includes('"status":"ok"'), 'the idle connection’s answer');
    expect(idle.received).toMatch(/^connection: keep-alive/im);

    // the app's shutdown steps (the test's connections and database go in afterEach)
    const closing = api.api.close();
    const readyz = await fetch(`${url}/readyz`);
    expect(readyz.status).toBe(503);
    expect(readyz.headers.get('cache-control')).toBe('no-store');
    const body = (await readyz.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('draining');
    // the checks are still told as they are
    expect(body.checks.postgres?.ok).toBe(true);

    // still served while draining: reads, liveness, the open socket and a new one
    const currencies = await fetch(`${url}/api/v1/currencies`);
    expect(currencies.status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await socket.barrier();
    const late = await WsClient.open(wsUrl);
    await late.subscribe('tasks');
    expect(idle.ended).toBe(false);

    // a request whose head is still arriving when the server stops accepting, and an upgrade
    const inFlight = rawConnection(url);
    inFlight.write(`GET /api/v1/currencies HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const upgrade = rawConnection(url);
    upgrade.write(
      'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
    );

    expect(await socket.closed).toEqual({ code: 1012, reason: 'service restart' });
    expect(await late.closed).toEqual({ code: 1012, reason: 'service restart' });
    await poll(() => idle.ended, 'the idle keep-alive connection to be closed');
    inFlight.write('\r\n');
    await poll(() => inFlight.ended, 'the in-flight connection to be closed after its answer');
    expect(inFlight.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(inFlight.received).toMatch(/^connection: close\r$/im);
    // no socket opens now: the connection is dropped unanswered, which a balancer retries elsewhere
    upgrade.write('\r\n');
    await poll(() => upgrade.ended, 'the late upgrade’s connection to be dropped');
    expect(upgrade.received).toBe('');

    await closing;
    const after = await fetch(`${url}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(after).toBe('refused');
  });

  it('with SHUTDOWN_DRAIN_MS=0 stops accepting at once, closing sockets with 1012', async () => {
    api = await startTestApi({ SHUTDOWN_DRAIN_MS: '0' });
    const socket = await WsClient.open(`${api.url.replace('http', 'ws')}/ws`);
    await socket.subscribe('tasks');
    const closing = api.api.close();
    expect((await socket.closed).code).toBe(1012);
    await closing;
    await expect(fetch(`${api.url}/readyz`)).rejects.toThrow();
  });
});
