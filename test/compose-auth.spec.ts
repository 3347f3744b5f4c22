// The compose stack's Redis and NATS require the credentials its apps are given: infra/nats/nats.conf
// and the redis service's command are run here for real (on free loopback ports, data in a temporary
// directory), and the apps' REDIS_URL and NATS_URL, with the file's dev-only defaults, are tried
// against them, as is a client without credentials.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { apiSettingsSchema, notifierSettingsSchema, workerSettingsSchema } from '@ratewire/contracts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  command?: string[];
  environment?: Record<string, string | number | null>;
  healthcheck?: { test?: string[] };
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const service = (name: string) => compose.services[name] ?? {};

/** Compose interpolation with the file's own defaults (`${X:-default}`). */
const interpolate = (value: string) =>
  value.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
const environment = (name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, interpolate(v === null ? '' : String(v))]),
  );

const APPS = { api: apiSettingsSchema, worker: workerSettingsSchema, notifier: notifierSettingsSchema } as const;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

function launch(cmd: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => rej(new Error(`${cmd} did not start: ${out}`)), 15_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        res(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${cmd} exited with ${code}: ${out}`));
    });
  });
}

/** Logs in to NATS over its text protocol: the server's first answer to CONNECT + PING. */
function natsLogin(port: number, url: string): Promise<string> {
  const u = new URL(url);
  const credentials = u.password ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {};
  return new Promise((res, rej) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = '';
    let sent = false;
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (!sent && buffer.includes('\r\n')) {
        sent = true;
        buffer = '';
        socket.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, ...credentials })}\r\nPING\r\n`);
        return;
      }
      const line = /^(PONG|-ERR [^\r]*)\r\n/.exec(buffer)?.[1];
      if (sent && line) {
        socket.destroy();
        res(line);
      }
    });
    socket.on('error', rej);
  });
}

const redisCli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('redis-cli', args, { env: { ...process.env, ...env }, encoding: 'utf8' });

let dir: string;
let natsPort: number;
let redisPort: number;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rw-compose-auth-'));
  [natsPort, redisPort] = [await freePort(), await freePort()];
  const monitor = await freePort();
  // the compose command and nats.conf, with ports and storage moved here; the credentials come from the
  // nats service's environment, as in the container
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, read('infra/nats/nats.conf').replace(/^(\s*store_dir:\s*)\S+/m, `$1${join(dir, 'js')}`));
  const [natsCmd = '', ...natsArgs] = (service('nats').command ?? []).map((a) =>
    a === '/etc/nats/nats.conf' ? conf : a,
  );
  children.push(
    await launch(
      natsCmd,
      [...natsArgs, '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(monitor)],
      environment('nats'),
      /Server is ready/,
    ),
  );
  const [redisCmd = '', ...redisArgs] = (service('redis').command ?? []).map(interpolate);
  children.push(
    await launch(
      redisCmd,
      [...redisArgs, '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      {},
      /Ready to accept connections/,
    ),
  );
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('docker-compose.yml credentials', () => {
  it('logs every app in to the compose NATS with its NATS_URL; a client without credentials is refused', async () => {
    for (const name of Object.keys(APPS)) {
      const url = environment(name).NATS_URL ?? '';
      expect(new URL(url).password, name).not.toBe('');
      expect(await natsLogin(natsPort, url), name).toBe('PONG');
    }
    expect(await natsLogin(natsPort, `nats://127.0.0.1:${natsPort}`)).toMatch(/^-ERR 'Authorization Violation'/);
  });

  it('logs every app in to the compose Redis with its REDIS_URL; the healthcheck logs in too; others are refused', () => {
    for (const name of Object.keys(APPS)) {
      const url = new URL(environment(name).REDIS_URL ?? '');
      url.hostname = '127.0.0.1';
      url.port = String(redisPort);
      expect(redisCli(['-u', url.toString(), 'ping']).stdout.trim(), name).toBe('PONG');
    }
    expect(redisCli(['-p', String(redisPort), 'ping']).stdout).toMatch(/NOAUTH/);
    // the healthcheck's own redis-cli, with the redis service's environment (REDISCLI_AUTH)
    const probe = redisCli(['-p', String(redisPort), 'ping'], environment('redis'));
    expect(probe.stdout.trim()).toBe('PONG');
    expect(service('redis').healthcheck?.test?.join(' ')).toMatch(/redis-cli ping/);
  });

  it('has defaults that say they are for development only', () => {
    for (const [name, key] of [
      ['api', 'REDIS_URL'],
      ['api', 'NATS_URL'],
    ] as const) {
      expect(decodeURIComponent(new URL(environment(name)[key] ?? '').password), key).toMatch(/dev-only/);
    }
  });

  it('keeps the worker and notifier health ports where their in-container healthchecks reach them', () => {
    for (const name of ['worker', 'notifier'] as const) {
      const settings = APPS[name].parse(environment(name));
      const probe = service(name).healthcheck?.test?.join(' ') ?? '';
      const host = /https?:\/\/([^/:]+):\d+\//.exec(probe)?.[1];
      expect(host, name).toBe('127.0.0.1');
      expect(['127.0.0.1', '0.0.0.0'], name).toContain(settings.HEALTH_HOST);
    }
  });

  it('does not pass /metrics on through nginx, in any letter case', () => {
    // the proxy rules the compose nginx (and the local multi-replica mode) include
    const nginx = read('infra/nginx/ratewire-proxy.conf').replace(/(^|\s)#.*$/gm, '$1');
    const block = /location\s+~\*\s+(\S+)\s*\{([^}]*)\}/.exec(nginx);
    expect(block).not.toBeNull();
    const pattern = new RegExp(block![1]!, 'i');
    for (const path of ['/metrics', '/METRICS', '/Metrics/']) expect(pattern.test(path), path).toBe(true);
    expect(block![2]).toMatch(/return\s+404;/);
    expect(block![2]).not.toMatch(/proxy_pass/);
  });
});
