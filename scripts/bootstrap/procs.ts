// Processes the bootstrap starts, finds and stops: pid liveness, what a pid runs, detached
// children that log to a file (so their output survives the bootstrap), graceful stops.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether `pid` runs (a zombie, exited but not yet reaped, does not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...", the state after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The command line of a live process ('' when it is gone or unreadable). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** The working directory of a process (with ` (deleted)` when that directory is gone). */
export function cwdOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return '';
  }
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** The last `lines` lines of a log file, or '' when there is none. */
export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

export interface SpawnedService {
  pid: number;
  exited: () => boolean;
  exitCode: () => number | string | null;
}

/**
 * Starts a long-running server in its own process group, its stdout and stderr appended to
 * `logFile`: it does not die with the bootstrap, and what it said can be read after a failure.
 */
export function spawnDetached(
  cmd: string,
  args: string[],
  opts: { cwd: string; logFile: string; uid?: number; gid?: number; env?: NodeJS.ProcessEnv },
): SpawnedService {
  const fd = openSync(opts.logFile, 'a');
  let exit: number | string | null = null;
  let done = false;
  try {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    });
    child.on('error', (err) => {
      done = true;
      exit = err.message;
    });
    child.on('exit', (code, signal) => {
      done = true;
      exit = code ?? signal;
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    return { pid: child.pid, exited: () => done, exitCode: () => exit };
  } finally {
    closeSync(fd);
  }
}

/** Sends `signal`, waits up to `graceMs` for the process to go, then SIGKILLs it. */
export async function stopPid(pid: number, signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  killPid(pid);
  for (let i = 0; i < 250 && alive(pid); i++) await sleep(20);
}

export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
