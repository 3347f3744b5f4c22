#!/usr/bin/env node
// Ratewire bootstrap: the one entry point behind `npm start` and `npm test`.
//
// Runs on any Node >= 18 with no dependencies installed. It
//   1. makes sure Node 24 and pnpm are available (fetched from the npm registry into
//      .toolchain/ when the system Node is older),
//   2. installs the workspace with pnpm,
//   3. brings up Postgres, Redis and NATS (JetStream) on loopback unless DATABASE_URL,
//      REDIS_URL or NATS_URL point elsewhere (see scripts/services.mjs),
//   4. then runs the apps (`start`), the test suites (`test`), the benchmarks (`bench`)
//      or just keeps the services up (`services`).
// Ctrl-C (or SIGTERM) stops everything it started, apps first, then the services.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { aptInstall, startServices, which } from './services.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLCHAIN = join(ROOT, '.toolchain');
const NODE_VERSION = '24.21.0';
const PNPM_VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager.split('@')[1];
const COMMANDS = new Set(['start', 'test', 'bench', 'services', 'migrate']);

const log = (msg) => process.stdout.write(`\x1b[36mratewire\x1b[0m ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** Node 24 from the npm registry when the running Node is older; re-executes this script with it. */
function ensureNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 24) return;
  const pkg = `node-${process.platform}-${process.arch}`;
  const bin = join(TOOLCHAIN, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(bin)) {
    log(`system Node ${process.version} is older than 24: fetching ${pkg}@${NODE_VERSION} into .toolchain/`);
    mkdirSync(TOOLCHAIN, { recursive: true });
    run('npm', [
      'install',
      '--prefix',
      TOOLCHAIN,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `${pkg}@${NODE_VERSION}`,
    ]);
  }
  // Hand over to Node 24 and relay signals to it (it ignores repeats that arrive together).
  const child = spawn(bin, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return new Promise(() => {});
}

/** pnpm (the version pinned in package.json) in .toolchain/, run with the current Node. */
function ensurePnpm() {
  const cli = join(TOOLCHAIN, 'pnpm', 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
  const current = existsSync(cli)
    ? JSON.parse(readFileSync(join(TOOLCHAIN, 'pnpm', 'node_modules', 'pnpm', 'package.json'), 'utf8')).version
    : null;
  if (current !== PNPM_VERSION) {
    log(`fetching pnpm@${PNPM_VERSION} into .toolchain/`);
    mkdirSync(join(TOOLCHAIN, 'pnpm'), { recursive: true });
    run('npm', [
      'install',
      '--prefix',
      join(TOOLCHAIN, 'pnpm'),
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `pnpm@${PNPM_VERSION}`,
    ]);
  }
  return cli;
}

function childEnv(extra = {}) {
  const path = [dirname(process.execPath), join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(':');
  return { ...process.env, PATH: path, ...extra };
}

async function main() {
  const command = process.argv[2] ?? 'start';
  if (!COMMANDS.has(command)) {
    console.error(`usage: node scripts/ratewire.mjs <${[...COMMANDS].join('|')}> [args]`);
    process.exit(2);
  }
  await ensureNode();
  const pnpm = ensurePnpm();
  const pnpmRun = (args, opts) => run(process.execPath, [pnpm, ...args], { env: childEnv(), ...opts });

  log(`node ${process.version}, pnpm ${PNPM_VERSION}: installing the workspace`);
  pnpmRun(['install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only']);

  // The browser test of /docs needs Chromium (Debian's package; nothing is downloaded by a test tool).
  if (command === 'test' && !process.env.CHROMIUM_PATH && !which('chromium')) aptInstall('chromium', log);
  // bench/http drives every target with the same load tool: wrk (Debian's package).
  if (command === 'bench' && !which('wrk')) aptInstall('wrk', log);

  const services = await startServices({ root: ROOT, log });
  const env = childEnv(services.env);
  let stopping = false;
  const children = new Set();

  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      [...children].map(
        (c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', r))),
      ),
    );
    await services.stop();
    process.exit(code);
  };
  // A terminal Ctrl-C reaches us both directly and relayed by npm: repeats within 2 s are one
  // request. A signal after that is a second request and stops everything at once.
  let firstSignalAt = 0;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      const now = Date.now();
      if (firstSignalAt && now - firstSignalAt < 2000) return;
      if (firstSignalAt) {
        log('second signal: stopping at once');
        for (const child of children) child.kill('SIGKILL');
        services.kill();
        process.exit(130);
      }
      firstSignalAt = now;
      log(`${sig}: stopping`);
      void shutdown(130);
    });
  }

  const spawnChild = (name, args, opts = {}) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: opts.stdio ?? 'inherit', detached: true });
    children.add(child);
    child.on('exit', () => children.delete(child));
    if (opts.prefix) {
      for (const stream of [child.stdout, child.stderr]) {
        let buf = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            process.stdout.write(`\x1b[35m${name.padEnd(8)}\x1b[0m ${buf.slice(0, i)}\n`);
            buf = buf.slice(i + 1);
          }
        });
      }
    }
    return child;
  };
  const waitFor = (child) => new Promise((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 1 : 0))));

  try {
    if (command === 'services') {
      log('services are up; Ctrl-C stops them');
      for (const [k, v] of Object.entries(services.env)) log(`${k}=${v}`);
      await new Promise(() => {});
    }

    log('running migrations');
    const migrated = await waitFor(spawnChild('migrate', ['packages/db/src/cli/migrate.ts', 'latest']));
    if (migrated !== 0) throw new Error('migrations failed');
    if (command === 'migrate') return shutdown(0);

    if (command === 'test') {
      const code = await waitFor(spawnChild('test', [join(ROOT, 'scripts', 'test.mjs'), ...process.argv.slice(3)]));
      return shutdown(code);
    }
    if (command === 'bench') {
      const code = await waitFor(spawnChild('bench', ['bench/src/main.ts', ...process.argv.slice(3)]));
      return shutdown(code);
    }

    // start: the three apps, each as its own process, logs prefixed with the app's name.
    const apps = ['api', 'worker', 'notifier'].map((name) =>
      spawnChild(name, [`apps/${name}/src/main.ts`], { stdio: ['ignore', 'pipe', 'pipe'], prefix: true }),
    );
    for (const child of apps) {
      void waitFor(child).then((code) => {
        if (!stopping) {
          log(`an app exited with ${code}: stopping everything`);
          void shutdown(code || 1);
        }
      });
    }
    const port = services.env.PORT ?? process.env.PORT ?? '8000';
    await waitReady(`http://127.0.0.1:${port}/readyz`, () => stopping);
    if (!stopping) {
      log('ready:');
      log(`  api      http://127.0.0.1:${port}/api/v1`);
      log(`  docs     http://127.0.0.1:${port}/docs`);
      log(`  ws       ws://127.0.0.1:${port}/ws`);
      log(`  health   http://127.0.0.1:${port}/readyz`);
      log('Ctrl-C stops everything');
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    await shutdown(1);
  }
}

async function waitReady(url, cancelled) {
  for (let i = 0; i < 600 && !cancelled(); i++) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!cancelled()) throw new Error(`${url} did not become ready`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
