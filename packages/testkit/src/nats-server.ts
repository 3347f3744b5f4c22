// A JetStream-enabled nats-server of a test's own, for tests that depend on a stream's contents or
// that stop NATS (the shared server is never stopped). Import as `@ratewire/testkit/nats-server`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './process.ts';

export interface PrivateNats {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: an outage, not a graceful stop). Its store survives. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  start(): Promise<void>;
  /** Stops it and removes its store. */
  close(): Promise<void>;
}

const BINARY = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) =>
  existsSync(p),
);

export async function startPrivateNats(): Promise<PrivateNats> {
  if (!BINARY) throw new Error('nats-server binary not found');
  const binary = BINARY;
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'rw-nats-'));
  let child: ChildProcess | null = null;

  const launch = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const proc = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`nats-server did not start: ${out}`));
      }, 15_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (/Server is ready/.test(out)) {
          clearTimeout(timer);
          proc.stdout?.removeAllListeners('data');
          proc.stderr?.removeAllListeners('data');
          proc.stdout?.resume();
          proc.stderr?.resume();
          resolve(proc);
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}: ${out}`));
      });
    });

  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  };

  child = await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    async start() {
      if (!child) child = await launch();
    },
    async close() {
      await stop();
      rmSync(store, { recursive: true, force: true });
    },
  };
}
