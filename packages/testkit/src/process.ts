import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface AppProcess {
  child: ChildProcess;
  /** Every line the process wrote so far (stdout and stderr). */
  output: string[];
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Starts `apps/<app>/src/main.ts` as a real process with the given environment. */
export function spawnApp(app: 'api' | 'worker' | 'notifier', env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', app, 'src', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        output.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      for (const w of waiters) w();
    });
  }
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  return {
    child,
    output,
    exited,
    waitForLine(pattern, timeoutMs = 15_000) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          const line = output.find((l) => pattern.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            waiters.delete(check);
            resolvePromise(line);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`${app}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${output.join('\n')}`),
          );
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (waiters.has(check)) {
            check();
            if (waiters.has(check)) {
              clearTimeout(timer);
              waiters.delete(check);
              reject(new Error(`${app} exited before printing ${pattern}; output:\n${output.join('\n')}`));
            }
          }
        });
        check();
      });
    },
  };
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A worker's feed settings for tests that are not about the feeds: both feeds out of reach (a port
 * nothing listens on), no Binance stream, a day between polls, so the worker fetches nothing.
 */
export const FEEDS_OUT_OF_REACH: Readonly<Record<string, string>> = {
  CBR_BASE_URL: 'http://127.0.0.1:9',
  BINANCE_BASE_URL: 'http://127.0.0.1:9',
  BINANCE_STREAM: 'off',
  CBR_POLL_INTERVAL_MS: '86400000',
  BINANCE_POLL_INTERVAL_MS: '86400000',
};

/** Kills (SIGKILL) every one of these processes still running and waits until all have ended. */
export async function killApps(procs: Iterable<AppProcess | undefined>): Promise<void> {
  const list = [...procs].filter((p): p is AppProcess => p !== undefined);
  for (const p of list) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(list.map((p) => p.exited));
}
