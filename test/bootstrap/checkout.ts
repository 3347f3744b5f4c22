// What the tests of `npm start` share: a fresh copy of this checkout in a 0700 directory, free ports,
// the bootstrap run as a real process whose output can be awaited, and the processes it left.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { externalDataDir } from '../../scripts/bootstrap/services.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Copies the files git knows (tracked or not ignored) into a new 0700 directory, as a clone would hold them. */
export function copyCheckout(prefix = 'rw-first-run-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o700);
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO,
    encoding: 'utf8',
  }).stdout.split('\0');
  for (const f of files) {
    if (!f || !existsSync(join(REPO, f))) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(REPO, f), join(dir, f));
  }
  // The pinned pnpm of this checkout's toolchain, so that the copy fetches nothing.
  mkdirSync(join(dir, '.toolchain'), { recursive: true });
  symlinkSync(join(REPO, '.toolchain', 'pnpm'), join(dir, '.toolchain', 'pnpm'));
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => r(port));
    });
  });
}

/** Whether 127.0.0.1:`port` can be listened on now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createServer();
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
  });
}

/** The first of `count` consecutive free ports, below the kernel's ephemeral range (so none is handed out meanwhile). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 12_000);
    let free = true;
    for (let p = first; p < first + count && free; p++) free = await canListen(p);
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/** Processes whose command line or working directory lies in one of `dirs` (the bootstrap's own and its servers). */
export function processesIn(dirs: string[]): { pid: number; ppid: number; cmd: string }[] {
  const out: { pid: number; ppid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmd = '';
    let cwd = '';
    let ppid = 0;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      cwd = readlinkSync(`/proc/${entry}/cwd`);
      ppid = Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone, or a kernel thread
    }
    if (dirs.some((d) => cmd.includes(d) || cwd.startsWith(d))) out.push({ pid: Number(entry), ppid, cmd: cmd.trim() });
  }
  return out;
}

/** What a bootstrap run in `checkout` left running: in the checkout or in its data directory elsewhere. */
export const processesOf = (checkout: string) => processesIn([checkout, externalDataDir(checkout)]);

/** Kills whatever a run in `checkout` left running and removes the checkout and its data directory. */
export function discardCheckout(checkout: string): void {
  for (const p of processesOf(checkout)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(checkout, { recursive: true, force: true });
  rmSync(externalDataDir(checkout), { recursive: true, force: true });
}

export interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** `node scripts/ratewire.mjs <args>` in `checkout`, its output (colours stripped) collected. */
export function runBootstrap(checkout: string, env: NodeJS.ProcessEnv, args: string[]): Run {
  const child = spawn(process.execPath, ['scripts/ratewire.mjs', ...args], {
    cwd: checkout,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  // eslint-disable-next-line no-control-regex
  const add = (d: Buffer) => (text += d.toString().replace(/\x1b\[[0-9;]*m/g, ''));
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  const exited = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? -1 : 0))));
  return {
    child,
    output: () => text,
    exited,
    async waitFor(pattern, timeoutMs = 150_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} in the bootstrap's output:\n${text}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** The environment of a bootstrap on ports of its own, with no outside service's URL inherited. */
export function isolatedEnv(ports: Record<string, number>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  };
  for (const key of [
    'DATABASE_URL',
    'REDIS_URL',
    'NATS_URL',
    'SMTP_URL',
    'PUBLIC_BASE_URL',
    'NODE_ENV',
    'VITEST',
    'VITEST_POOL_ID',
  ])
    delete env[key];
  return env;
}

/** The settings of every port `npm start` opens, each given a free port. */
export async function isolatedPorts(): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const key of [
    'RATEWIRE_PG_PORT',
    'RATEWIRE_REDIS_PORT',
    'RATEWIRE_NATS_PORT',
    'RATEWIRE_NATS_MONITOR_PORT',
    'PORT',
    'RATEWIRE_WORKER_HEALTH_PORT',
    'RATEWIRE_NOTIFIER_HEALTH_PORT',
    'RATEWIRE_SMTP_PORT',
  ]) {
    ports[key] = await freePort();
  }
  return ports;
}
