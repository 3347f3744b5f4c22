// Bundles the CLI into dist/: one small entry chunk (the command tree) and a chunk per command's
// action, loaded on use. Nothing is left to resolve at run time but Node's own modules.
import { readFileSync, rmSync } from 'node:fs';

import { build } from 'esbuild';

const root = new URL('.', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __RATEWIRE_CLI_VERSION__: JSON.stringify(version) },
  // CommonJS dependencies (nats) call require() for Node's modules; give the bundle one
  banner: {
    js: "import { createRequire as __rwRequire } from 'node:module'; const require = __rwRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
