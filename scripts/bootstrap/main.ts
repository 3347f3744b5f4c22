// The bootstrap behind `npm start`, `npm test`, `npm run bench` and `npm run services`, run by
// Node 24 once scripts/ratewire.mjs has made sure of Node 24 and pnpm. It
//   1. installs the workspace with pnpm,
//   2. brings up Postgres, Redis and NATS (services.ts) unless their URL settings point elsewhere,
//      and, for `start` and `services`, a local mail catcher unless SMTP_URL is set (mail.ts),
//   3. runs the migrations, then the apps (`start`), the suites (`test`), the benchmarks (`bench`),
//      or keeps the services up (`services`).
// Ctrl-C (or SIGTERM) stops everything it started, apps first, then the mail catcher and the
// services; a failure at any point does the same and says why. Only Node's own modules are used:
// nothing is installed yet (the mail catcher's package is imported once pnpm has run).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { mailLine, startMailCatcher, type MailCatcher } from './mail.ts';
import { ensureNginx, startNginx } from './nginx.ts';
import { assertPortFree } from './ports.ts';
import { alive, cmdline, readJson, stopPid, writeJson } from './procs.ts';
import { parseReplicas, planReplicas, type ReplicaApp, type ReplicaCounts } from './replicas.ts';
import { killSpawned, portSetting, startServices, stopSpawned, type Services } from './services.ts';
import { BootstrapError, aptInstall, ensureLocalhost, which } from './system.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMMANDS = ['start', 'test', 'bench', 'services', 'migrate'] as const;
type Command = (typeof COMMANDS)[number];
/** The apps `npm start` runs, each with the port it listens on (the api's PORT; the others' HEALTH_PORT). */
const APPS = [
  { name: 'api', portSetting: 'PORT', env: 'PORT', port: 8000 },
  { name: 'worker', portSetting: 'RATEWIRE_WORKER_HEALTH_PORT', env: 'HEALTH_PORT', port: 8001 },
  { name: 'notifier', portSetting: 'RATEWIRE_NOTIFIER_HEALTH_PORT', env: 'HEALTH_PORT', port: 8002 },
].map((app) => ({ ...app, port: portSetting(app.portSetting, app.port).port }));

const log = (msg: string) => process.stdout.write(`\x1b[36mratewire\x1b[0m ${msg}\n`);

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const path = [dirname(process.execPath), join(ROOT, 'node_modules', '.bin'), process.env['PATH']].join(':');
  return { ...process.env, PATH: path, ...extra };
}

function runSync(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, env: childEnv() });
  if (r.error) throw new BootstrapError(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new BootstrapError(`${what} failed (exit ${r.status ?? r.signal})`, 'see its output above');
}

/** What .data/apps.json records while `npm start` runs the apps: so a later start can clean up after a kill -9. */
interface AppsState {
  owner: number;
  apps: { name: string; pid: number }[];
  /** The nginx master in front of the api replicas (`--replicas`), run from `dir`. */
  nginx?: { pid: number; dir: string };
}
const APPS_STATE = join(ROOT, '.data', 'apps.json');
const NGINX_DIR = join(ROOT, '.data', 'nginx');

/** Stops the apps a bootstrap that died left running; refuses when a live one still runs them. */
async function cleanUpLeftApps(): Promise<void> {
  const state = readJson<AppsState>(APPS_STATE);
  if (!state) return;
  const left = state.apps.filter((a) => alive(a.pid) && cmdline(a.pid).includes(`apps/${a.name}/src/main.ts`));
  if (left.length > 0 && state.owner !== process.pid && alive(state.owner)) {
    throw new BootstrapError(
      `the apps of this checkout already run (npm start, pid ${state.owner})`,
      `stop that one first (Ctrl-C in its terminal, or kill ${state.owner})`,
    );
  }
  for (const a of left) {
    log(`${a.name}: stopping pid ${a.pid}, left running by a previous run that did not stop`);
    await stopPid(a.pid, 'SIGTERM');
  }
  const nginx = state.nginx;
  if (nginx && alive(nginx.pid) && cmdline(nginx.pid).includes(nginx.dir)) {
    log(`nginx: stopping pid ${nginx.pid}, left running by a previous run that did not stop`);
    // SIGTERM to the master: it stops its workers, then itself
    await stopPid(nginx.pid, 'SIGTERM', 5000);
  }
  rmSync(APPS_STATE, { force: true });
}

async function waitReady(url: string, cancelled: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !cancelled(); i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!cancelled()) throw new BootstrapError(`${url} did not become ready within 150 s`, 'see the apps’ logs above');
}

/** `npm test` after the bootstrap: one vitest run over every package, then a plain "N passed, N failed" line. */
function vitestArgs(report: string, extra: string[]): string[] {
  return [
    join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...extra,
  ];
}

function printTestSummary(report: string): void {
  if (!existsSync(report)) return;
  const r = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests?: number;
    numFailedTests?: number;
    numPendingTests?: number;
    numTodoTests?: number;
    testResults?: { status: string; assertionResults: { status: string }[] }[];
  };
  // A file that fails before any test runs (an import error) counts as one failure.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'),
  ).length;
  const failed = (r.numFailedTests ?? 0) + brokenFiles;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  process.stdout.write(
    `\ntests: ${r.numPassedTests ?? 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
  );
}

async function main(): Promise<void> {
  const command = (process.argv[2] ?? 'start') as Command;
  if (!COMMANDS.includes(command)) {
    console.error(`usage: npm run <${COMMANDS.join('|')}> (node scripts/ratewire.mjs <command> [args])`);
    process.exit(2);
  }
  const extraArgs = process.argv.slice(3);
  // `npm start -- --replicas api=3,worker=2,notifier=2`: checked before anything is installed or started
  const replicaCounts: ReplicaCounts | null = command === 'start' ? parseReplicas(extraArgs) : null;
  const pnpm = process.env['RATEWIRE_PNPM'];
  if (!pnpm) throw new BootstrapError('RATEWIRE_PNPM is not set', 'run this through scripts/ratewire.mjs (npm start)');

  let stopping = false;
  let services: Services | null = null;
  let mail: MailCatcher | null = null;
  let nginx: { stop(): Promise<void> } | null = null;
  const children = new Set<ChildProcess>();

  const shutdown = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(
        [...children].map(
          (c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))),
        ),
      );
      rmSync(APPS_STATE, { force: true });
      await nginx?.stop();
      await mail?.stop();
      await services?.stop();
      await stopSpawned();
    }
    process.exit(code);
  };
  // A terminal Ctrl-C reaches us both directly and relayed by npm: repeats within 2 s are one
  // request. A signal after that is a second request and stops everything at once.
  let firstSignalAt = 0;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      const now = Date.now();
      if (firstSignalAt && now - firstSignalAt < 2000) return;
      if (firstSignalAt) {
        log('second signal: stopping at once');
        for (const child of children) child.kill('SIGKILL');
        services?.kill();
        killSpawned();
        process.exit(130);
      }
      firstSignalAt = now;
      log(`${sig}: stopping`);
      void shutdown(130);
    });
  }

  // log prefixes: `notifier` in one column, or `notifier.2` with --replicas
  const prefixWidth = replicaCounts ? 11 : 8;
  const spawnChild = (name: string, args: string[], opts: { env: NodeJS.ProcessEnv; prefix?: boolean }) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: opts.env,
      stdio: opts.prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      detached: true,
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    if (opts.prefix) {
      for (const stream of [child.stdout, child.stderr]) {
        let buf = '';
        stream?.setEncoding('utf8');
        stream?.on('data', (chunk: string) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            process.stdout.write(`\x1b[35m${name.padEnd(prefixWidth)}\x1b[0m ${buf.slice(0, i)}\n`);
            buf = buf.slice(i + 1);
          }
        });
      }
    }
    return child;
  };
  const waitFor = (child: ChildProcess) =>
    new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 1 : 0))));

  try {
    await ensureLocalhost(log);
    log(`node ${process.version}: installing the workspace`);
    runSync(
      process.execPath,
      [pnpm, 'install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only'],
      'pnpm install',
    );
    // the ratewire CLI runs from its bundle (apps/cli/dist): build it, as it is quick, every time
    runSync(process.execPath, [join(ROOT, 'apps', 'cli', 'build.ts')], 'building the ratewire CLI (apps/cli/build.ts)');
    // the api serves the web console from apps/web/dist: built when missing or when its inputs changed
    runSync(process.execPath, [join(ROOT, 'apps', 'web', 'build.ts')], 'building the web console (apps/web/build.ts)');
    // The browser tests need Chromium (Debian's package; nothing is downloaded by a test tool).
    if (command === 'test' && !process.env['CHROMIUM_PATH'] && !which('chromium')) aptInstall('chromium', log);
    // The CLI's terminal tests drive a real terminal (tmux) and check the zsh completion script in zsh.
    if (command === 'test' && !which('tmux')) aptInstall('tmux', log);
    if (command === 'test' && !which('zsh')) aptInstall('zsh', log);
    // The nginx tests run Debian's nginx (the local multi-replica mode's, and nginx -t of the compose one).
    if (command === 'test') ensureNginx(log);
    // bench/http drives every target with the same load tool: wrk (Debian's package).
    if (command === 'bench' && !which('wrk')) aptInstall('wrk', log);
    // --replicas: each replica on a port of its own, nginx on the api's port in front of the api replicas
    const replicas = replicaCounts ? planReplicas(replicaCounts, [{ name: 'nginx', port: APPS[0]!.port }]) : null;
    if (replicas) ensureNginx(log);
    if (command === 'start') {
      await cleanUpLeftApps();
      if (replicas) {
        await assertPortFree('nginx (the api)', APPS[0]!.port, APPS[0]!.portSetting);
        for (const r of replicas) await assertPortFree(r.name, r.port, r.portSetting);
      } else for (const app of APPS) await assertPortFree(app.name, app.port, app.portSetting);
    }

    services = await startServices(ROOT, log);
    if (command === 'start' || command === 'services') mail = await startMailCatcher(join(ROOT, '.data'), log);
    const serviceEnv = { ...services.env, ...mail?.env };
    const env = childEnv(serviceEnv);

    if (command === 'services') {
      log('services are up; Ctrl-C stops them');
      for (const [k, v] of Object.entries(serviceEnv)) log(`${k}=${v}`);
      if (mail?.dir) log(mailLine(mail.dir));
      // the services run detached (or were adopted), so nothing else holds the event loop: without
      // this timer the process would end here and leave them running with nobody to stop them
      setInterval(() => {}, 2 ** 30);
      await new Promise(() => {});
    }

    log('running migrations');
    const migrated = await waitFor(spawnChild('migrate', ['packages/db/src/cli/migrate.ts', 'latest'], { env }));
    if (migrated !== 0) throw new BootstrapError('migrations failed', 'see the migrate log above');
    if (command === 'migrate') return void (await shutdown(0));

    if (command === 'test') {
      const report = join(ROOT, '.data', 'vitest-report.json');
      mkdirSync(dirname(report), { recursive: true });
      rmSync(report, { force: true });
      const code = await waitFor(
        spawnChild('test', vitestArgs(report, extraArgs), { env: { ...env, NODE_ENV: 'test' } }),
      );
      printTestSummary(report);
      return void (await shutdown(code));
    }
    if (command === 'bench') {
      const code = await waitFor(spawnChild('bench', ['bench/src/main.ts', ...extraArgs], { env }));
      return void (await shutdown(code));
    }

    // start: the three apps, each as its own process (or, with --replicas, several of each), logs
    // prefixed with the process's name. Mailed links point at this api unless PUBLIC_BASE_URL says otherwise.
    const port = APPS[0]!.port;
    const publicBaseUrl = process.env['PUBLIC_BASE_URL'] || `http://localhost:${port}`;
    const procs = (
      replicas ?? APPS.map((app) => ({ app: app.name, name: app.name, port: app.port, portSetting: app.portSetting }))
    ).map((p) => ({ ...p, envKey: APPS.find((a) => a.name === p.app)!.env }));
    const apps = procs.map((p) => ({
      ...p,
      child: spawnChild(p.name, [`apps/${p.app}/src/main.ts`], {
        env: {
          ...env,
          PUBLIC_BASE_URL: publicBaseUrl,
          [p.envKey]: String(p.port),
          // behind nginx, the client's address is in X-Forwarded-For
          ...(replicas && p.app === 'api' ? { TRUST_PROXY: process.env['TRUST_PROXY'] || 'true' } : {}),
        },
        prefix: true,
      }),
    }));
    const state: AppsState = { owner: process.pid, apps: apps.map((a) => ({ name: a.app, pid: a.child.pid ?? 0 })) };
    writeJson(APPS_STATE, state);
    const running = (app: string) =>
      apps.filter((a) => a.app === app && a.child.exitCode === null && a.child.signalCode === null).length;
    for (const { name, app, child } of apps) {
      void waitFor(child).then((code) => {
        if (stopping) return;
        if (!replicas) {
          log(`${name} exited with ${code}: stopping everything`);
          return void shutdown(code || 1);
        }
        // a replica that exits is reported; the others go on serving until the last of its app is gone
        const left = running(app);
        log(
          `${name} (pid ${child.pid}) exited with ${code}: ${left} of ${replicaCounts![app as ReplicaApp]} ${app} replicas run`,
        );
        if (left === 0) {
          log(`no ${app} runs any more: stopping everything`);
          void shutdown(code || 1);
        }
      });
    }
    const apiReplicas = apps.filter((a) => a.app === 'api');
    if (replicas) {
      const proxy = await startNginx({
        port,
        upstreams: apiReplicas.map((a) => `127.0.0.1:${a.port}`),
        dir: NGINX_DIR,
      });
      nginx = proxy;
      const pid = Number(readFileSync(join(NGINX_DIR, 'nginx.pid'), 'utf8').trim());
      writeJson(APPS_STATE, { ...state, nginx: { pid, dir: NGINX_DIR } } satisfies AppsState);
      const watch = setInterval(() => {
        if (stopping || alive(pid)) return;
        clearInterval(watch);
        log(`nginx (pid ${pid}) exited: stopping everything (its log: ${join(NGINX_DIR, 'logs', 'error.log')})`);
        void shutdown(1);
      }, 1000);
      watch.unref();
      for (const a of apiReplicas) await waitReady(`http://127.0.0.1:${a.port}/readyz`, () => stopping);
    }
    await waitReady(`http://127.0.0.1:${port}/readyz`, () => stopping);
    if (!stopping) {
      if (replicas) {
        const n = (app: string) => `${replicaCounts![app as ReplicaApp]} ${app}`;
        log(`ready: ${n('api')}, ${n('worker')} and ${n('notifier')} replicas, nginx in front of the api replicas:`);
      } else log('ready:');
      log(`  console  http://127.0.0.1:${port}/`);
      log(
        `  api      http://127.0.0.1:${port}/api/v1${replicas ? '   (nginx, round robin over the api replicas)' : ''}`,
      );
      log(`  docs     http://127.0.0.1:${port}/docs`);
      log(`  ws       ws://127.0.0.1:${port}/ws`);
      log(`  health   http://127.0.0.1:${port}/readyz`);
      if (replicas) {
        for (const a of apps) {
          const url = a.app === 'api' ? `http://127.0.0.1:${a.port}/api/v1` : `http://127.0.0.1:${a.port}/readyz`;
          log(`  ${a.name.padEnd(10)} ${url}   (pid ${a.child.pid})`);
        }
        log(
          `  nginx    X-Upstream on each answer names the replica; access log ${join(NGINX_DIR, 'logs', 'access.log')}`,
        );
      }
      log(
        `  cli      pnpm ratewire --help   (or node apps/cli/bin/ratewire.js; RATEWIRE_URL=http://127.0.0.1:${port})`,
      );
      if (mail?.dir) log(`  ${mailLine(mail.dir)}`);
      for (const [k, v] of Object.entries(serviceEnv)) log(`  ${k}=${v}`);
      log('Ctrl-C stops everything');
    }
  } catch (err) {
    report(err);
    await shutdown(1);
  }
}

function report(err: unknown): void {
  if (err instanceof BootstrapError) {
    console.error(`\x1b[31mratewire: ${err.message}\x1b[0m`);
    if (err.hint) console.error(`  what to do: ${err.hint}`);
  } else console.error(err);
}

main().catch((err: unknown) => {
  report(err);
  void stopSpawned().finally(() => process.exit(1));
});
