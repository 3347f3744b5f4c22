#!/usr/bin/env node
// The `ratewire` command. Kept tiny: `--version` answers before anything is loaded, and the
// compile cache lets later runs skip parsing the bundle. Runs the built bundle (dist/, made by
// `pnpm --filter @ratewire/cli build`, which `npm start` and `npm test` run) or, in a checkout
// without one, the TypeScript source.
import { existsSync, readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`ratewire ${version}\n`);
} else {
  const dist = new URL('../dist/main.js', import.meta.url);
  const entry = existsSync(dist) ? dist : new URL('../src/main.ts', import.meta.url);
  const { main } = await import(entry.href);
  await main(argv);
}
