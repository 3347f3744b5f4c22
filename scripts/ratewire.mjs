#!/usr/bin/env node
// The entry point behind `npm start`, `npm test`, `npm run bench` and `npm run services`.
//
// Runs on any Node >= 18 with nothing installed, and does only what needs no dependencies:
//   1. makes sure Node 24 is available (fetched from the npm registry into .toolchain/ when the
//      system Node is older) and re-runs itself with it;
//   2. makes sure pnpm (the version pinned in package.json) is in .toolchain/;
//   3. hands over to the bootstrap proper, scripts/bootstrap/main.ts, in this same process.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLCHAIN = join(ROOT, '.toolchain');
const NODE_VERSION = '24.21.0';
/**
 * @param {string} file
 * @returns {{ version?: string, packageManager?: string }}
 */
function readPackage(file) {
  /** @type {{ version?: string, packageManager?: string }} */
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  return pkg;
}
const PNPM_VERSION = String(readPackage(join(ROOT, 'package.json')).packageManager).split('@')[1];

/** @param {string} msg */
const log = (msg) => process.stdout.write(`\x1b[36mratewire\x1b[0m ${msg}\n`);

/**
 * `npm install <spec>` into `prefix`; exits with the reason when npm fails.
 * @param {string} prefix
 * @param {string} spec
 */
function npmInstall(prefix, spec) {
  mkdirSync(prefix, { recursive: true });
  const args = ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', spec];
  const r = spawnSync('npm', args, { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) {
    console.error(
      `\x1b[31mratewire: npm install ${spec} failed (${r.error ? r.error.message : `exit ${r.status}`})\x1b[0m\n` +
        '  what to do: check that the npm registry is reachable (npm ping), then run the command again',
    );
    process.exit(1);
  }
}

/** Re-runs this script with Node 24 (from .toolchain/ when the system Node is older), relaying signals. */
function handOverToNode24() {
  const pkg = `node-${process.platform}-${process.arch}`;
  const bin = join(TOOLCHAIN, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(bin)) {
    log(`system Node ${process.version} is older than 24: fetching ${pkg}@${NODE_VERSION} into .toolchain/`);
    npmInstall(TOOLCHAIN, `${pkg}@${NODE_VERSION}`);
  }
  const child = spawn(bin, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/** The pnpm CLI pinned in package.json, fetched into .toolchain/pnpm when missing or another version. */
function ensurePnpm() {
  const dir = join(TOOLCHAIN, 'pnpm', 'node_modules', 'pnpm');
  const current = existsSync(join(dir, 'package.json')) ? readPackage(join(dir, 'package.json')).version : null;
  if (current !== PNPM_VERSION) {
    log(`fetching pnpm@${PNPM_VERSION} into .toolchain/`);
    npmInstall(join(TOOLCHAIN, 'pnpm'), `pnpm@${PNPM_VERSION}`);
  }
  return join(dir, 'bin', 'pnpm.cjs');
}

if (Number(process.versions.node.split('.')[0]) < 24) {
  handOverToNode24();
} else {
  process.env.RATEWIRE_PNPM = ensurePnpm();
  await import('./bootstrap/main.ts');
}
