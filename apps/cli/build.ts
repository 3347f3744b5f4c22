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

/**
 * commander imports child_process for executable subcommands, which this CLI does not have; loading it
 * costs about 4 ms of every start. It is handed a stand-in that loads the module on first use.
 */
const lazyChildProcess: Plugin = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents:
        "import { createRequire } from 'node:module';\n" +
        'let loaded;\n' +
        "const load = () => (loaded ??= createRequire(import.meta.url)('node:child_process'));\n" +
        'export default new Proxy({}, { get: (_target, key) => load()[key] });\n',
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
  plugins: [englishOnly, lazyChildProcess],
  logLevel: 'warning',
});
