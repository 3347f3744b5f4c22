// A Redis and a NATS server of a test's own (never the shared ones): socket channels have fixed
// names, so a test that publishes on them must not share servers with other suites, and a test that
// restarts a server must own it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '@ratewire/testkit';

export interface PrivateServer {
  url: string;
  port: number;
  /** Stops the server (SIGKILL: an outage, not a graceful stop). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function launch(cmd: string, args: string[], ready: RegExp, name: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start: ${out}`));
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
      reject(new Error(`${name} exited with ${code}: ${out}`));
    });
  });
}

function server(
  port: number,
  url: string,
  run: () => Promise<ChildProcess>,
  cleanup: () => void = () => {},
): PrivateServer {
  let child: ChildProcess | null = null;
  const kill = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  };
  return {
    url,
    port,
    kill,
    async start() {
      if (child) return;
      child = await run();
    },
    async close() {
      await kill();
      cleanup();
    },
  };
}

export async function startPrivateRedis(): Promise<PrivateServer> {
  const port = await freePort();
  const s = server(port, `redis://127.0.0.1:${port}`, () =>
    launch(
      '/usr/bin/redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      /Ready to accept connections/,
      'redis-server',
    ),
  );
  await s.start();
  return s;
}

export async function startPrivateNats(): Promise<PrivateServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rw-nats-'));
  const s = server(
    port,
    `nats://127.0.0.1:${port}`,
    () =>
      launch(
        '/usr/sbin/nats-server',
        ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
        /Server is ready/,
        'nats-server',
      ),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  await s.start();
  return s;
}
