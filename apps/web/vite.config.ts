// The console's build: Preact through esbuild's JSX (no Babel), hashed file names under /assets
// (served immutable by the api), no inline script (the api's CSP allows scripts from 'self' only),
// and a .gz and .br beside every text asset, which the api serves to clients that accept them.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

import { defineConfig, type Plugin } from 'vite';

const API = process.env['RATEWIRE_API_URL'] ?? 'http://127.0.0.1:3000';

function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'ratewire-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const path = join(dir, name);
          return statSync(path).isDirectory() ? walk(path) : [path];
        });
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json|map)$/.test(file)) continue;
        const body = readFileSync(file);
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: true,
    manifest: true,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rollupOptions: {
      // zod's sources carry comments Rollup cannot place; it drops them, which changes nothing
      onwarn(warning, warn) {
        if (warning.code !== 'INVALID_ANNOTATION') warn(warning);
      },
    },
  },
  plugins: [precompress()],
  // `pnpm --filter @ratewire/web dev`: the console with hot reload, against an api on RATEWIRE_API_URL
  server: {
    proxy: {
      '/api': API,
      '/readyz': API,
      '/ws': { target: API.replace(/^http/, 'ws'), ws: true },
    },
  },
});
