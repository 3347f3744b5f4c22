// Bundles the CLI into dist/: one small entry chunk (the command tree) and a chunk per command's
// action, loaded on use. Nothing is left to resolve at run time but Node's own modules.
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

import { build, type Plugin } from 'esbuild';

/**
 * zod's namespace export carries every message locale (~250 KB of the bundle, parsed on each
 * start); the CLI speaks English, which zod configures itself from its own en.js. The rest stay out.
 */
const englishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

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
  plugins: [englishOnly],
  logLevel: 'warning',
});
