// vitest globalSetup: builds the CLI bundle once per run, before any test file starts, for the
// tests that run the real `ratewire` bin (a terminal, an installed copy).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('../build.ts', import.meta.url))], {
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`building the CLI failed:\n${build.stderr}`);
}
