// nginx in front of several api replicas on this machine (`npm start -- --replicas api=N`): Debian's
// package when none is installed (without letting it start a system nginx on port 80), and one nginx
// run as a child in the foreground from a directory of its own, with the same proxy rules as the
// compose stack (infra/nginx/ratewire-http.conf and ratewire-proxy.conf, included by the rendered
// infra/nginx/local.conf.template). Works on nginx >= 1.22.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { alive, sleep, tail } from './procs.ts';
import { BootstrapError, aptInstall, isRoot, userCanReach, which, type Log, type ServiceUser } from './system.ts';

const INFRA = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'infra', 'nginx');
/** The shared rules, copied next to the rendered configuration (its `include`s are relative to it). */
const SHARED = ['ratewire-http.conf', 'ratewire-proxy.conf'];

export interface NginxOptions {
  /** The port nginx listens on. */
  port: number;
  /** The api replicas, `host:port` each ('127.0.0.1:8101' …). */
  upstreams: string[];
  /** nginx's own directory: configuration, pid, logs, temp dirs (created when missing). */
  dir: string;
  /** The listen address, default 127.0.0.1. */
  host?: string;
}

const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * The nginx binary, installing Debian's package (root only) when there is none. The package's
 * maintainer scripts would start a system nginx on port 80 and enable it at boot: a policy-rc.d that
 * refuses every start is in place while apt-get runs (unless the machine has one already), and the
 * service is disabled afterwards (and stopped, should one have started anyway).
 */
export function ensureNginx(log: Log): string {
  const found = which('nginx');
  if (found) return found;
  const ownPolicy = isRoot() && !existsSync(POLICY_RC);
  if (ownPolicy)
    writeFileSync(POLICY_RC, '#!/bin/sh\n# written by the Ratewire bootstrap while it installs nginx\nexit 101\n', {
      mode: 0o755,
    });
  try {
    aptInstall('nginx', log);
  } finally {
    if (ownPolicy) unlinkSync(POLICY_RC);
  }
  const installed = which('nginx');
  if (!installed) throw new BootstrapError('nginx was installed but is not on PATH', 'see apt-get’s output above');
  keepSystemNginxOff(installed, log);
  return installed;
}

/** Disables the nginx service the package registered, and stops it if it runs. */
function keepSystemNginxOff(bin: string, log: Log): void {
  const quiet = { stdio: 'ignore' } as const;
  // `systemctl disable` works without a running systemd too (it removes the unit's wants link)
  if (which('systemctl')) spawnSync('systemctl', ['disable', 'nginx'], quiet);
  if (existsSync('/run/systemd/system') && which('systemctl')) spawnSync('systemctl', ['stop', 'nginx'], quiet);
  if (which('update-rc.d') && existsSync('/etc/init.d/nginx')) spawnSync('update-rc.d', ['nginx', 'disable'], quiet);
  const pid = Number(readText('/run/nginx.pid').trim());
  if (pid > 0 && alive(pid)) {
    log(`nginx: stopping the system nginx the package started (pid ${pid})`);
    spawnSync(bin, ['-s', 'quit'], quiet);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `${NAME}` → values[NAME]; a placeholder without a value is a bug in the template. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx template: no value for \${${name}}`);
    return value;
  });
}

const UPSTREAM = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

/** Who nginx's workers run as when the master is root: Debian's build defaults to nobody. */
function workerUser(): ServiceUser {
  const id = (flag: string) => spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim();
  return { name: 'nobody', uid: Number(id('-u')), gid: Number(id('-g')) };
}

interface Rendered {
  conf: string;
  /** A temp dir outside `dir`, made because the workers cannot reach `dir`; removed on stop. */
  privateTemp: string | null;
}

/** Writes `<dir>/nginx.conf` (and the shared rules beside it) for `options`. */
function render(options: NginxOptions): Rendered {
  const { dir, upstreams } = options;
  const host = options.host ?? '127.0.0.1';
  if (upstreams.length === 0) throw new BootstrapError('nginx: no api replica to send requests to');
  for (const u of upstreams) if (!UPSTREAM.test(u)) throw new BootstrapError(`nginx: bad upstream address ${u}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  // As root the master reads the configuration and opens the logs, but the workers (nobody) write the
  // temp files of large bodies: they must reach them, which they cannot inside a 0700 home.
  let userLine = '# not root: the workers run as this user';
  let tempDir = join(dir, 'temp');
  let privateTemp: string | null = null;
  if (isRoot()) {
    const worker = workerUser();
    const group = spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).stdout.trim() || 'nogroup';
    userLine = `user ${worker.name} ${group};`;
    mkdirSync(tempDir, { recursive: true });
    chownSync(tempDir, worker.uid, worker.gid);
    if (!userCanReach(worker, tempDir, true)) {
      // named after `dir`, so that the next start from `dir` clears what an nginx killed with its
      // bootstrap (kill -9) left; a fresh name should that one be taken by someone else meanwhile
      privateTemp = join(tmpdir(), `ratewire-nginx-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
      rmSync(privateTemp, { recursive: true, force: true });
      try {
        mkdirSync(privateTemp, { mode: 0o700 });
      } catch {
        privateTemp = mkdtempSync(join(tmpdir(), 'ratewire-nginx-'));
      }
      chmodSync(privateTemp, 0o700);
      chownSync(privateTemp, worker.uid, worker.gid);
      tempDir = privateTemp;
    }
  }
  for (const f of SHARED) copyFileSync(join(INFRA, f), join(dir, f));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    fillTemplate(readFileSync(join(INFRA, 'local.conf.template'), 'utf8'), {
      USER: userLine,
      TEMP_DIR: tempDir,
      LISTEN: `${host.includes(':') ? `[${host}]` : host}:${options.port}`,
      SERVERS: upstreams.map((u) => `    server ${u} max_fails=0;`).join('\n'),
    }),
  );
  return { conf, privateTemp };
}

function args(dir: string, conf: string): string[] {
  return ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'logs', 'error.log')];
}

/**
 * Renders the configuration for `options`, checks it with `nginx -t`, runs nginx in the foreground
 * as a child in its own process group, and resolves once it answers on `host:port`. `stop()` (or
 * this process's exit) ends nginx and its workers.
 */
export async function startNginx(options: NginxOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = which('nginx');
  if (!bin) throw new BootstrapError('nginx is not installed', 'install it (apt-get install nginx)');
  const dir = resolve(options.dir);
  const { conf, privateTemp } = render({ ...options, dir });
  const dropTemp = () => {
    if (privateTemp) rmSync(privateTemp, { recursive: true, force: true });
  };
  const errorLog = join(dir, 'logs', 'error.log');

  const check = spawnSync(bin, ['-t', '-q', ...args(dir, conf)], { encoding: 'utf8' });
  if (check.status !== 0) {
    dropTemp();
    throw new BootstrapError(
      `nginx refuses its configuration ${conf}:\n${(check.stderr || check.error?.message || '').trim()}`,
    );
  }

  const child = spawn(bin, [...args(dir, conf), '-g', 'daemon off;'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (err) => {
    exited = true;
    stderr += err.message;
  });
  const pid = child.pid;
  const killGroup = (signal: NodeJS.Signals) => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // gone
    }
  };
  const onExit = () => {
    killGroup('SIGKILL');
    dropTemp();
  };
  process.on('exit', onExit);

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      process.off('exit', onExit);
      // SIGTERM: nginx's fast shutdown (open connections are closed); the workers follow the master.
      killGroup('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
      killGroup('SIGKILL');
      for (let i = 0; i < 100 && pid !== undefined && groupAlive(pid); i++) await sleep(20);
      dropTemp();
    })());

  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    try {
      const res = await fetch(`${url}/nginx-health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return { url, stop };
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  await stop();
  const said = [stderr.trim(), tail(errorLog, 10)].filter(Boolean).join('\n');
  throw new BootstrapError(
    exited ? `nginx exited while starting on ${url}` : `nginx did not answer on ${url} within 10 s`,
    said ? `its last words (${errorLog}):\n${said}` : `see ${errorLog}`,
  );
}

/** Whether any process of the group led by `pid` is still alive (workers outlive a killed master briefly). */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
