#!/usr/bin/env node
// The `ratewire` command. Kept tiny: `--version` answers before anything is loaded, and the
// compile cache lets later runs skip parsing the bundle. Runs the built bundle (dist/, made by
// `pnpm --filter @ratewire/cli build`, which `npm start` and `npm test` run) or, in a checkout
// without one, the TypeScript source. On a Node older than 22 it hands over to the checkout's own
// Node 24 (.toolchain/, put there by `npm start`) when there is one.
import { existsSync, readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const local = new URL(
    `../../../.toolchain/node_modules/node-${process.platform}-${process.arch}/bin/node`,
    import.meta.url,
  );
  if (!existsSync(local)) {
    process.stderr.write(
      `error: ratewire needs Node 22 or newer; this is Node ${process.versions.node}\n` +
        '  install a newer Node, or run `npm start` once in the checkout (it fetches Node 24 into .toolchain/)\n',
    );
    process.exit(1);
  }
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(fileURLToPath(local), [fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
nodeModule.enableCompileCache?.();
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`ratewire ${version}\n`);
} else {
  const dist = new URL('../dist/main.js', import.meta.url);
  const entry = existsSync(dist) ? dist : new URL('../src/main.ts', import.meta.url);
  const { main } = await import(entry.href);
  await main(argv);
}
