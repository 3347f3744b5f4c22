// A Redis or a JetStream-enabled NATS server of a test's own (never the shared ones), for tests that
// stop a server to make an outage, depend on a stream's whole contents, or publish on fixed channel
// names other suites must not see. Import as `@ratewire/testkit/private-servers`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './process.ts';

export interface PrivateServer {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: an outage, not a graceful stop). A NATS store survives. */
  stop(): Promise<void>;
  /** Starts it again on the same port (and, for NATS, the same store). */
  start(): Promise<void>;
  /** Stops it and removes what it stored. */
  close(): Promise<void>;
}

function binary(name: string): string {
  const found = ['/usr/sbin', '/usr/local/bin', '/usr/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} binary not found`);
  return found;
}

function launch(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} did not start: ${out}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        child.stdout?.removeListener('data', onData);
        child.stderr?.removeListener('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}: ${out}`));
    });
  });
}

async function privateServer(
  port: number,
  url: string,
  run: () => Promise<ChildProcess>,
  cleanup: () => void = () => {},
): Promise<PrivateServer> {
  let child: ChildProcess | null = null;
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  };
  const server: PrivateServer = {
    url,
    port,
    stop,
    async start() {
      if (!child) child = await run();
    },
    async close() {
      await stop();
      cleanup();
    },
  };
  await server.start();
  return server;
}

export async function startPrivateRedis(): Promise<PrivateServer> {
  const cmd = binary('redis-server');
  const port = await freePort();
  return privateServer(port, `redis://127.0.0.1:${port}`, () =>
    launch(
      cmd,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      /Ready to accept connections/,
    ),
  );
}

export async function startPrivateNats(): Promise<PrivateServer> {
  const cmd = binary('nats-server');
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'rw-nats-'));
  return privateServer(
    port,
    `nats://127.0.0.1:${port}`,
    () => launch(cmd, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], /Server is ready/),
    () => rmSync(store, { recursive: true, force: true }),
  );
}
