// vitest globalSetup: the console tests serve the real build of apps/web, so build it once per run
// when its inputs changed (apps/web/build.ts keeps a digest of them).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('../../web/build.ts', import.meta.url))], {
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`building the web console failed:\n${build.stdout}\n${build.stderr}`);
}
