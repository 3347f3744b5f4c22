// Builds the console into dist/ when its inputs changed since the last build: `npm start`, `npm test`
// and the test suites call it, so a stale or missing build never gets served. The inputs are the
// console's own files and the workspace packages it bundles; their digest is kept in
// dist/.inputs-digest. `node build.ts --force` builds regardless.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
export const WEB_DIST = join(HERE, 'dist');
const DIGEST_FILE = join(WEB_DIST, '.inputs-digest');

const INPUTS = [
  'apps/web/src',
  'apps/web/public',
  'apps/web/index.html',
  'apps/web/vite.config.ts',
  'apps/web/package.json',
  'packages/contracts/src',
  'packages/client/src',
  'pnpm-lock.yaml',
];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => (name === 'node_modules' ? [] : files(join(path, name))));
}

/** A digest of every input file's path and bytes. */
export function inputsDigest(): string {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of files(join(ROOT, input))) {
      if (file.endsWith('.spec.ts')) continue;
      hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

export function isBuildFresh(): boolean {
  return (
    existsSync(join(WEB_DIST, 'index.html')) &&
    existsSync(DIGEST_FILE) &&
    readFileSync(DIGEST_FILE, 'utf8') === inputsDigest()
  );
}

const LOCK_FILE = join(HERE, '.build.lock');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Runs `work` holding the build lock, so two test runs (or a test run and `npm start`) never write
 * dist/ at once; a lock whose process is gone is taken over.
 */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(LOCK_FILE, 'utf8'));
      if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) rmSync(LOCK_FILE, { force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}

/** Builds dist/ unless it is fresh; answers whether it built. */
export async function buildConsole(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && isBuildFresh()) return false;
  return withBuildLock(async () => {
    // another process may have built it while this one waited for the lock
    if (!options.force && isBuildFresh()) return false;
    const digest = inputsDigest();
    const { build } = await import('vite');
    await build({ root: HERE, configFile: join(HERE, 'vite.config.ts'), logLevel: options.quiet ? 'warn' : 'info' });
    writeFileSync(DIGEST_FILE, digest);
    return true;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildConsole({ force: process.argv.includes('--force') });
  if (!built) console.log('the web console build (apps/web/dist) is up to date');
}
