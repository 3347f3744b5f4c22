// The compose nginx (infra/nginx/nginx.conf.template) run for real on Debian's nginx, finding the api
// replicas by DNS as it does on a compose network: a DNS server of the test's own answers `api` with
// a list of addresses the test changes, and three small HTTP servers on 127.0.0.2-4 (all of 127/8 is
// loopback on Linux) stand in for the replicas, on the port the template names. The template is
// rendered as the image's entrypoint renders it (NGINX_LOCAL_RESOLVERS, here the test's DNS server);
// only what cannot work outside the container is rewritten, each rewrite checked to apply exactly once.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureNginx, fillTemplate } from '../scripts/bootstrap/nginx.ts';
import { sleep } from '../scripts/bootstrap/procs.ts';
import { isRoot, userCanReach } from '../scripts/bootstrap/system.ts';

const INFRA = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'infra', 'nginx');
/** The port the template sends requests to (`set $ratewire_api api:8000;`). */
const API_PORT = 8000;
/** The replicas `api` resolves to at first, and the one added later. 127.0.0.1 is left to the api itself. */
const FIRST = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const ADDED = '127.0.0.5';

// ---- DNS ---------------------------------------------------------------------------------------

interface Query {
  name: string;
  type: number;
}

/**
 * A DNS server on 127.0.0.1 (UDP) that knows one name: `api`, answered with A records for
 * `addresses` (which the test changes) and `ttl`; any other name is NXDOMAIN, and `api` with no
 * address too (as Docker's DNS answers once a service has no container left).
 */
async function dnsServer(initial: string[], ttl: number) {
  const state = { addresses: [...initial], queries: [] as (Query & { at: number; answered: string[] })[] };
  const socket: UdpSocket = createSocket('udp4');
  socket.on('message', (msg, from) => {
    if (msg.length < 12) return;
    // header: id, flags, qdcount, ancount, nscount, arcount; then one question: labels, type, class
    let at = 12;
    const labels: string[] = [];
    while (at < msg.length && msg[at] !== 0) {
      const len = msg[at]!;
      labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'));
      at += 1 + len;
    }
    const questionEnd = at + 5;
    if (msg.readUInt16BE(4) !== 1 || questionEnd > msg.length) return;
    const name = labels.join('.').toLowerCase();
    const type = msg.readUInt16BE(at + 1);
    const known = name === 'api' && state.addresses.length > 0;
    const answered = known && type === 1 ? [...state.addresses] : [];
    state.queries.push({ name, type, at: performance.now(), answered });

    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    // QR, the query's opcode and RD, RA; rcode 3 (NXDOMAIN) for a name it does not know
    header.writeUInt16BE(0x8000 | (msg.readUInt16BE(2) & 0x7900) | 0x0080 | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answered.length, 6);
    const records = answered.map((address) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(ttl, 6);
      rr.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
      return rr;
    });
    socket.send(Buffer.concat([header, msg.subarray(12, questionEnd), ...records]), from.port, from.address);
  });
  await new Promise<void>((ok) => socket.bind(0, '127.0.0.1', ok));
  return { state, port: socket.address().port, close: () => new Promise<void>((ok) => socket.close(ok)) };
}

// ---- api replicas ------------------------------------------------------------------------------

interface Replica {
  address: string;
  server: Server;
  /** The headers of each request it answered, upgrades included. */
  seen: IncomingHttpHeaders[];
  upgrades: IncomingHttpHeaders[];
  sockets: Set<Duplex>;
}

/** An HTTP server on `address:port` that answers with its own address, and upgrades /ws (one text frame, its address). */
function replica(address: string, port: number): Promise<Replica> {
  const seen: IncomingHttpHeaders[] = [];
  const upgrades: IncomingHttpHeaders[] = [];
  const sockets = new Set<Duplex>();
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ address })));
  });
  server.on('upgrade', (req, socket) => {
    upgrades.push(req.headers);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const text = Buffer.from(JSON.stringify({ address }));
    socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, address, () => {
      server.off('error', fail);
      ok({ address, server, seen, upgrades, sockets });
    });
  });
}

async function stopReplica(r: Replica): Promise<void> {
  r.server.closeAllConnections();
  for (const s of r.sockets) s.destroy();
  if (r.server.listening) await new Promise((ok) => r.server.close(ok));
}

/** The replicas on the template's own port when every address has it free, else all on one other port. */
async function replicasOnOnePort(addresses: string[]): Promise<{ port: number; replicas: Replica[] }> {
  for (const port of [API_PORT, 0]) {
    const replicas: Replica[] = [];
    try {
      let p = port;
      for (const a of addresses) {
        const r = await replica(a, p);
        p = (r.server.address() as AddressInfo).port;
        replicas.push(r);
      }
      return { port: p, replicas };
    } catch (err) {
      await Promise.all(replicas.map(stopReplica));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      console.log(`[measure] port ${port || 'picked'} is in use on one of ${addresses.join(', ')}; trying another`);
    }
  }
  throw new Error(`no port free on all of ${addresses.join(', ')}`);
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => ok(port));
    });
  });
}

// ---- the rendered template ---------------------------------------------------------------------

/** `conf` with `from` replaced by `to`, where `from` must occur exactly once. */
function rewrite(conf: string, from: string, to: string): string {
  const count = conf.split(from).length - 1;
  expect(count, `the template should contain "${from}" exactly once`).toBe(1);
  return conf.replace(from, () => to);
}

/** Who nginx's workers run as when the master is root (`user` line), as in the local mode. */
function workerUser() {
  const id = (...args: string[]) => spawnSync('id', [...args, 'nobody'], { encoding: 'utf8' }).stdout.trim();
  return { name: 'nobody', group: id('-gn') || 'nogroup', uid: Number(id('-u')), gid: Number(id('-g')) };
}

/** Whether any process of the group led by `pid` is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Answer {
  status: number;
  address: string | null;
  ms: number;
}

describe('the compose nginx on Debian’s nginx, finding the api replicas by DNS', { timeout: 120_000 }, () => {
  let dir: string;
  let temp: string;
  let dns: Awaited<ReturnType<typeof dnsServer>>;
  let replicas: Replica[] = [];
  let added: Replica | undefined;
  let apiPort: number;
  let url: string;
  let nginx: ChildProcess | undefined;
  let stderr = '';
  let conf = '';
  const worker = workerUser();

  const byAddress = (address: string) => [...replicas, ...(added ? [added] : [])].find((r) => r.address === address)!;

  async function get(path = '/api/v1/rates', headers: Record<string, string> = {}): Promise<Answer> {
    const started = performance.now();
    const res = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    const ms = performance.now() - started;
    const address = res.status === 200 ? (JSON.parse(text) as { address: string }).address : null;
    return { status: res.status, address, ms };
  }

  async function counts(n: number): Promise<{ answers: Answer[]; count: Map<string, number> }> {
    const answers: Answer[] = [];
    for (let i = 0; i < n; i++) answers.push(await get());
    const count = new Map<string, number>();
    for (const a of answers) count.set(String(a.address), (count.get(String(a.address)) ?? 0) + 1);
    return { answers, count };
  }

  beforeAll(async () => {
    const bin = ensureNginx((msg) => console.log(`[compose-nginx] ${msg}`));
    // Docker's DNS says 600 s; the resolver's valid=2s is what nginx keeps an answer for
    dns = await dnsServer(FIRST, 600);
    ({ port: apiPort, replicas } = await replicasOnOnePort(FIRST));
    const listen = await freePort();
    const health = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'rw-compose-nginx-'));
    // the workers (nobody, as root) write the temp files of large bodies: a dir of their own, as in the local mode
    temp = mkdtempSync(join(tmpdir(), 'rw-compose-nginx-temp-'));
    if (isRoot()) chownSync(temp, worker.uid, worker.gid);

    const template = readFileSync(join(INFRA, 'nginx.conf.template'), 'utf8');
    conf = fillTemplate(template, { NGINX_LOCAL_RESOLVERS: `127.0.0.1:${dns.port}` });
    // the image's user, log and pid paths, and its temp dirs (/var/cache/nginx), which this machine need not have
    conf = rewrite(conf, '\nuser nginx;\n', isRoot() ? `\nuser ${worker.name} ${worker.group};\n` : '\n');
    conf = rewrite(conf, 'error_log /var/log/nginx/error.log ', `error_log ${dir}/error.log `);
    conf = rewrite(conf, 'access_log /var/log/nginx/access.log ', `access_log ${dir}/access.log `);
    conf = rewrite(conf, 'pid /var/run/nginx.pid;', `pid ${dir}/nginx.pid;`);
    conf = rewrite(
      conf,
      '  include ratewire-http.conf;\n',
      `  include ratewire-http.conf;\n${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((t) => `  ${t}_temp_path ${temp}/${t};\n`)
        .join('')}`,
    );
    // ports this machine has free, on loopback
    conf = rewrite(conf, 'listen 127.0.0.1:8081;', `listen 127.0.0.1:${health};`);
    conf = rewrite(conf, 'listen 8000 default_server;', `listen 127.0.0.1:${listen} default_server;`);
    if (apiPort !== API_PORT) conf = rewrite(conf, `api:${API_PORT};`, `api:${apiPort};`);
    expect(conf).not.toContain('/var/');
    expect(conf).toContain(`resolver 127.0.0.1:${dns.port} valid=2s ipv6=off;`);
    expect(conf).toContain(`set $ratewire_api api:${apiPort};`);
    writeFileSync(join(dir, 'nginx.conf'), conf);
    for (const f of ['ratewire-http.conf', 'ratewire-proxy.conf']) copyFileSync(join(INFRA, f), join(dir, f));

    const args = ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
    const t = spawnSync(bin, ['-t', ...args], { encoding: 'utf8' });
    expect(t.stderr).toContain('test is successful');
    nginx = spawn(bin, [...args, '-g', 'daemon off;'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    process.on('exit', killOnExit);
    url = `http://127.0.0.1:${listen}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${health}/nginx-health`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (i === 200 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${stderr}`);
      await sleep(50);
    }
  });

  /** Should the run end without afterAll (a worker killed), nginx goes with it. */
  const killOnExit = () => {
    try {
      if (nginx?.pid !== undefined) process.kill(-nginx.pid, 'SIGKILL');
    } catch {
      // gone
    }
  };

  async function stopNginx(): Promise<void> {
    const pid = nginx?.pid;
    if (pid === undefined) return;
    process.off('exit', killOnExit);
    for (const [signal, rounds] of [
      ['SIGTERM', 100],
      ['SIGKILL', 100],
    ] as const) {
      try {
        process.kill(-pid, signal);
      } catch {
        // gone
      }
      for (let i = 0; i < rounds && groupAlive(pid); i++) await sleep(50);
    }
  }

  afterAll(async () => {
    await stopNginx();
    await Promise.all([...replicas, ...(added ? [added] : [])].map(stopReplica));
    await dns?.close();
    for (const d of [dir, temp]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('runs as rendered, asking the DNS server for the bare name api, A records only (ipv6=off)', async () => {
    const { status, address } = await get();
    expect(status).toBe(200);
    expect(FIRST).toContain(address);
    expect(dns.state.queries.length).toBeGreaterThan(0);
    expect(new Set(dns.state.queries.map((q) => `${q.name}/${q.type}`))).toEqual(new Set(['api/1']));
    if (isRoot()) expect(userCanReach({ name: worker.name, uid: worker.uid, gid: worker.gid }, temp, true)).toBe(true);
    console.log(
      `[measure] ${spawnSync(
        ensureNginx(() => {}),
        ['-v'],
        { encoding: 'utf8' },
      ).stderr.trim()}`,
    );
  });

  it('gives every address api resolves to a fair share, picked at random per request (not in turn)', async () => {
    const n = 300;
    const { answers, count } = await counts(n);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect([...count.keys()].sort()).toEqual([...FIRST].sort());
    for (const a of FIRST) expect(count.get(a)!, a).toBeGreaterThanOrEqual(n * 0.15);
    // strict rotation would never send two requests in a row to one replica; a random pick among
    // three does so about a third of the time
    const repeats = answers.slice(1).filter((a, i) => a.address === answers[i]!.address).length;
    console.log(
      `[measure] ${n} requests over 3 addresses: ${JSON.stringify(Object.fromEntries(count))}; ` +
        `same replica as the request before: ${repeats}/${n - 1} (${((100 * repeats) / (n - 1)).toFixed(0)} %)`,
    );
    expect(repeats).toBeGreaterThan((n - 1) * 0.15);
    expect(repeats).toBeLessThan((n - 1) * 0.55);
  });

  it('forwards X-Forwarded-For/-Proto, Host and the request id (the caller’s, else its own)', async () => {
    const own = await get('/api/v1/rates', { 'x-request-id': 'compose-nginx-1' });
    const headers = byAddress(own.address!).seen.at(-1)!;
    expect(headers['x-request-id']).toBe('compose-nginx-1');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-real-ip']).toBe('127.0.0.1');
    expect(headers['host']).toBe(new URL(url).host);
    const none = await get();
    expect(byAddress(none.address!).seen.at(-1)!['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect((await get('/metrics')).status).toBe(404);
  });

  it('passes a WebSocket upgrade on /ws to a replica, with the forwarding headers', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers: { 'x-request-id': 'compose-nginx-ws' } });
    const frame = await new Promise<string>((ok, fail) => {
      ws.onmessage = (e) => ok(String(e.data));
      ws.onerror = () => fail(new Error('WebSocket through nginx failed'));
    });
    ws.close();
    const { address } = JSON.parse(frame) as { address: string };
    expect(FIRST).toContain(address);
    const headers = byAddress(address).upgrades.at(-1)!;
    expect(headers['upgrade']).toBe('websocket');
    expect(headers['connection']).toBe('upgrade');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-request-id']).toBe('compose-nginx-ws');
  });

  it('stops sending to an address DNS no longer returns, and starts on one it adds, without a reload', async () => {
    const [kept1, kept2, removed] = FIRST as [string, string, string];
    // a run of this many requests without the removed address, were it still picked a third of the
    // time, happens with odds of (2/3)^60, about 3e-11
    const run = 60;
    const removedAt = performance.now();
    dns.state.addresses = [kept1, kept2];
    let lastHit = removedAt;
    let sent = 0;
    for (let clean = 0; clean < run; sent++) {
      const a = await get();
      expect(a.status).toBe(200);
      if (a.address === removed) {
        lastHit = performance.now();
        clean = 0;
      } else clean++;
      if (performance.now() - removedAt > 30_000) throw new Error(`${removed} still gets requests after 30 s`);
      await sleep(2);
    }
    console.log(
      `[measure] removed from DNS: last request reached ${removed} ${(lastHit - removedAt).toFixed(0)} ms ` +
        `after the change (${sent} requests sent until ${run} in a row missed it)`,
    );
    expect(byAddress(removed).seen.length).toBeGreaterThan(0);

    added = await replica(ADDED, apiPort);
    const addedAt = performance.now();
    dns.state.addresses = [kept1, kept2, ADDED];
    let firstHit: number | null = null;
    for (sent = 0; firstHit === null; sent++) {
      const a = await get();
      expect(a.status).toBe(200);
      if (a.address === ADDED) firstHit = performance.now();
      if (performance.now() - addedAt > 30_000) throw new Error(`${ADDED} got no request within 30 s`);
      await sleep(2);
    }
    console.log(
      `[measure] added to DNS: first request reached ${ADDED} ${(firstHit - addedAt).toFixed(0)} ms ` +
        `after the change (${sent} requests)`,
    );
    // once every worker's answer has expired, the new set shares the load
    await sleep(2_500);
    const n = 150;
    const { count } = await counts(n);
    console.log(`[measure] ${n} requests after the change: ${JSON.stringify(Object.fromEntries(count))}`);
    expect([...count.keys()].sort()).toEqual([kept1, kept2, ADDED].sort());
    for (const a of [kept1, kept2, ADDED]) expect(count.get(a)!, a).toBeGreaterThanOrEqual(n * 0.15);
  });

  it('answers every request while a replica still in DNS is stopped (it refuses; nginx tries the next)', async () => {
    const live = [...dns.state.addresses];
    const stopped = live[0]!;
    await stopReplica(byAddress(stopped));
    const access = join(dir, 'access.log');
    const before = readFileSync(access, 'utf8').length;
    const n = 150;
    const { answers, count } = await counts(n);
    const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
    const lines = readFileSync(access, 'utf8').slice(before).trim().split('\n');
    const movedOn = lines.filter((l) => new RegExp(`upstream=${stopped.replaceAll('.', '\\.')}:\\d+, `).test(l));
    console.log(
      `[measure] ${n} requests with ${stopped} stopped but in DNS: ${JSON.stringify(Object.fromEntries(count))}; ` +
        `${movedOn.length} tried it first and moved on; p50 ${ms[Math.floor(n / 2)]!.toFixed(1)} ms, ` +
        `max ${ms.at(-1)!.toFixed(1)} ms`,
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(count.has(stopped)).toBe(false);
    // it was still picked (its share of requests went there first), and each such request moved on to
    // the address after it in the DNS answer: nginx starts the answer at a random place but keeps its
    // order, so a stopped replica's share all goes to one neighbour (until the next lookup)
    expect(movedOn.length).toBeGreaterThan(0);
    const next = live[(live.indexOf(stopped) + 1) % live.length]!;
    expect(movedOn.filter((l) => !l.includes(`upstream=${stopped}:${apiPort}, ${next}:${apiPort} `))).toEqual([]);
    expect(lines.filter((l) => / 502 | 504 /.test(l))).toEqual([]);
  });

  it('stops with its workers (the process group), leaving no nginx process', async () => {
    const pid = nginx!.pid!;
    expect(groupAlive(pid)).toBe(true);
    await stopNginx();
    expect(groupAlive(pid)).toBe(false);
    await expect(fetch(`${url}/nginx-health`)).rejects.toThrow();
  });
});
