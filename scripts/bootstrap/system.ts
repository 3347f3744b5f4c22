// What the bootstrap needs of the machine: programs on PATH, Debian packages, the unprivileged
// user that Postgres runs as when we are root, and whether that user can reach a path.
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A failure the user can act on: what went wrong, then what to do. */
export class BootstrapError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'BootstrapError';
    this.hint = hint;
  }
}

export type Log = (msg: string) => void;

export const isRoot = (): boolean => process.getuid?.() === 0;

export function which(name: string, extraDirs: string[] = []): string | null {
  const dirs = [
    ...(process.env['PATH'] ?? '').split(':'),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
  ];
  for (const dir of [...dirs, ...extraDirs]) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

let aptUpdated = false;

/** Installs a Debian package with apt-get (root only); `binary` is looked up afterwards. */
export function aptInstall(pkg: string, log: Log): void {
  if (!isRoot() || !which('apt-get')) {
    throw new BootstrapError(
      `${pkg} is not installed and cannot be installed from here (that needs root and apt-get)`,
      `install it (sudo apt-get install ${pkg}), or point the service's URL setting at one you run`,
    );
  }
  log(`installing ${pkg} from Debian (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env });
  if (r.status !== 0) {
    throw new BootstrapError(
      `apt-get install ${pkg} failed (exit ${r.status ?? r.signal})`,
      'see apt-get’s output above',
    );
  }
}

/** The binary `name`, installing Debian package `pkg` when it is missing. */
export function ensureBinary(name: string, pkg: string, log: Log): string {
  const found = which(name);
  if (found) return found;
  aptInstall(pkg, log);
  const installed = which(name);
  if (!installed) throw new BootstrapError(`${pkg} was installed but ${name} is not on PATH`);
  return installed;
}

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

export const SERVICE_USER = 'ratewire';

/** The system user servers run as when the bootstrap runs as root (Postgres refuses root), created on first use. */
export function serviceUser(): ServiceUser | null {
  if (!isRoot()) return null;
  const id = (flag: string) => spawnSync('id', [flag, SERVICE_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER], {
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      throw new BootstrapError(
        `could not create the system user ${SERVICE_USER} that Postgres runs as: ${r.stderr.trim() || r.error?.message}`,
        'create it yourself (useradd --system ratewire), or set DATABASE_URL to a Postgres you run',
      );
    }
  }
  return { name: SERVICE_USER, uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** Whether `user` may read and enter (and, with `write`, write) `path`: asked as that user, so every parent counts. */
export function userCanReach(user: ServiceUser, path: string, write = false): boolean {
  const r = spawnSync('test', [write ? '-w' : '-x', path], { uid: user.uid, gid: user.gid });
  return r.status === 0;
}

/** Debian's /etc/hosts for a machine with no network names of its own. */
const DEFAULT_HOSTS = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n';

/**
 * `localhost` must resolve (the test runner's servers and the apps' clients look it up). A bare
 * Debian root made by debootstrap has no /etc/hosts at all: as root, Debian's default is written.
 */
export async function ensureLocalhost(log: Log): Promise<void> {
  try {
    await lookup('localhost');
    return;
  } catch {
    // below
  }
  if (isRoot() && !existsSync('/etc/hosts')) {
    log('localhost does not resolve and there is no /etc/hosts: writing Debian’s default one');
    writeFileSync('/etc/hosts', DEFAULT_HOSTS, { mode: 0o644 });
    return;
  }
  throw new BootstrapError(
    'the name localhost does not resolve on this machine',
    'add the line "127.0.0.1 localhost" to /etc/hosts',
  );
}
