// The nginx of the local multi-replica mode (scripts/bootstrap/nginx.ts), as a real Debian nginx in
// front of real HTTP servers standing in for api replicas: requests spread and fail over, WebSocket
// upgrades pass, the shared rules hold, and a stop leaves no nginx process. As root, its directory
// sits in a 0700 directory its workers (nobody) cannot enter, as in a clone under /root.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureNginx, startNginx } from '../../scripts/bootstrap/nginx.ts';

const isRoot = process.getuid?.() === 0;

interface Replica {
  server: Server;
  port: number;
  seen: IncomingMessage['headers'][];
  /** Upgraded sockets, which the server's own close does not end. */
  sockets: Set<Duplex>;
}

/** An HTTP server that answers with its own port and echoes the size of what it was sent; upgrades /ws. */
async function replica(): Promise<Replica> {
  const seen: IncomingMessage['headers'][] = [];
  const sockets = new Set<Duplex>();
  const server = createServer((req, res) => {
    seen.push(req.headers);
    let size = 0;
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('end', () => {
      const { port } = server.address() as { port: number };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ port, size }));
    });
  });
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const key = String(req.headers['sec-websocket-key']);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const { port } = server.address() as { port: number };
    const text = Buffer.from(JSON.stringify({ hello: port }));
    socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, seen, sockets };
}

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => r(port));
    });
  });
}

/** The processes of process group `pgid` (nginx's master leads its workers' group). */
function group(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        // pid (comm) state ppid pgrp …
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('startNginx: Debian’s nginx in front of local api replicas', { timeout: 120_000 }, () => {
  let home: string;
  let dir: string;
  let replicas: Replica[];
  let proxy: Awaited<ReturnType<typeof startNginx>>;

  beforeAll(async () => {
    ensureNginx((msg) => console.log(`[nginx.spec] ${msg}`));
    home = mkdtempSync(join(tmpdir(), 'rw-nginx-'));
    chmodSync(home, 0o700);
    dir = join(home, '.data', 'nginx');
    replicas = [await replica(), await replica(), await replica()];
    proxy = await startNginx({ port: await freePort(), upstreams: replicas.map((r) => `127.0.0.1:${r.port}`), dir });
  });

  afterAll(async () => {
    await proxy?.stop();
    for (const r of replicas ?? []) {
      r.server.closeAllConnections();
      for (const s of r.sockets) s.destroy();
    }
    await Promise.all((replicas ?? []).map((r) => new Promise((ok) => r.server.close(ok))));
    rmSync(home, { recursive: true, force: true });
  });

  it('is Debian’s nginx, and the rendered configuration passes nginx -t', async () => {
    const { spawnSync } = await import('node:child_process');
    const v = spawnSync(
      ensureNginx(() => {}),
      ['-v'],
      { encoding: 'utf8' },
    );
    console.log(`[measure] ${v.stderr.trim()}`);
    const t = spawnSync(
      ensureNginx(() => {}),
      ['-t', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log')],
      { encoding: 'utf8' },
    );
    expect(t.stderr).toContain('test is successful');
    expect(t.status).toBe(0);
  });

  it('spreads requests over every replica and names the one that answered in X-Upstream', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${proxy.url}/api/v1/rates`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { port: number };
      expect(res.headers.get('x-upstream')).toBe(`127.0.0.1:${body.port}`);
      counts.set(String(body.port), (counts.get(String(body.port)) ?? 0) + 1);
    }
    console.log(`[measure] 30 requests over 3 replicas: ${JSON.stringify(Object.fromEntries(counts))}`);
    expect([...counts.keys()].sort()).toEqual(replicas.map((r) => String(r.port)).sort());
  });

  it('forwards the request id, Host and X-Forwarded-*, and keeps /metrics to the replicas', async () => {
    const res = await fetch(`${proxy.url}/x`, { headers: { 'x-request-id': 'nginx-spec-1' } });
    const { port } = (await res.json()) as { port: number };
    const headers = replicas.find((r) => r.port === port)!.seen.at(-1)!;
    expect(headers['x-request-id']).toBe('nginx-spec-1');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['host']).toBe(new URL(proxy.url).host);
    for (const path of ['/metrics', '/METRICS/']) expect((await fetch(`${proxy.url}${path}`)).status).toBe(404);
  });

  it('takes a request body larger than its memory buffer (a temp file its workers must be able to write)', async () => {
    const body = 'x'.repeat(300_000);
    const res = await fetch(`${proxy.url}/api/v1/jobs`, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { size: number }).size).toBe(body.length);
    expect(readFileSync(join(dir, 'logs', 'error.log'), 'utf8')).toContain('buffered to a temporary file');
  });

  it('passes a WebSocket upgrade on /ws', async () => {
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/ws`);
    const frame = await new Promise<string>((ok, fail) => {
      ws.onmessage = (e) => ok(String(e.data));
      ws.onerror = () => fail(new Error('WebSocket through nginx failed'));
    });
    ws.close();
    const { hello } = JSON.parse(frame) as { hello: number };
    expect(replicas.map((r) => r.port)).toContain(hello);
  });

  it('moves on to the next replica when one is gone, without an error to the client', async () => {
    const gone = replicas[0]!;
    gone.server.closeAllConnections();
    await new Promise((ok) => gone.server.close(ok));
    const started = performance.now();
    const ports = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${proxy.url}/api/v1/rates`);
      expect(res.status).toBe(200);
      ports.add(((await res.json()) as { port: number }).port);
    }
    console.log(`[measure] 12 requests with one replica gone: ${(performance.now() - started).toFixed(0)} ms`);
    expect(ports.has(gone.port)).toBe(false);
    expect(ports.size).toBe(2);
  });

  it('stops with its workers, leaving no nginx process and no temp dir', async () => {
    const master = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
    const temp = /proxy_temp_path (\S+)\/proxy;/.exec(readFileSync(join(dir, 'nginx.conf'), 'utf8'))![1]!;
    // as root, the workers (nobody) cannot enter the 0700 home: their temp dir lies outside it
    if (isRoot) expect(temp.startsWith(home)).toBe(false);
    expect(existsSync(temp)).toBe(true);
    expect(group(master).length).toBeGreaterThanOrEqual(2);
    await proxy.stop();
    expect(group(master)).toEqual([]);
    await expect(fetch(`${proxy.url}/nginx-health`)).rejects.toThrow();
    if (isRoot) expect(existsSync(temp)).toBe(false);
  });
});
