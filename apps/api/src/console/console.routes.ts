// The web console (apps/web), served from its build: every console page path answers index.html
// (no-cache, so a new build is picked up at once) under a strict Content-Security-Policy: scripts,
// styles and connections from this origin only, nothing inline, no framing. The hashed files under
// /assets are immutable for a year, sent precompressed (.br or .gz, built beside each file) to
// clients that accept it. Without a build, the pages say how to make one.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import { CONSOLE_PAGES } from '@ratewire/contracts/console';
import express, { type Request, type Response, type Router } from 'express';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const ASSET_NAME = /^[\w.-]+$/;
const YEAR = 'public, max-age=31536000, immutable';

/** The encodings a client accepts (q=0 excluded), from Accept-Encoding. */
function accepts(req: Request, encoding: 'br' | 'gzip'): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    if (name?.trim() !== encoding) return false;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}

function sendFile(req: Request, res: Response, path: string, cacheControl: string): void {
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const encoded =
    accepts(req, 'br') && existsSync(`${path}.br`)
      ? 'br'
      : accepts(req, 'gzip') && existsSync(`${path}.gz`)
        ? 'gzip'
        : null;
  const file = encoded === 'br' ? `${path}.br` : encoded === 'gzip' ? `${path}.gz` : path;
  res.set({ 'content-type': type, 'cache-control': cacheControl, vary: 'Accept-Encoding' });
  if (encoded) res.set('content-encoding', encoded);
  res.sendFile(file, { dotfiles: 'deny', lastModified: false, etag: false });
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ratewire console not built</title></head>
<body><main><h1>The web console is not built</h1>
<p>Build it with <code>pnpm --filter @ratewire/web build</code> (<code>npm start</code> does this when the build is
missing or stale), then reload. The API is documented at <a href="/docs">/docs</a>.</p></main></body></html>`;

export function consoleRouter(distDir: string): Router {
  const router = express.Router();
  const indexPath = join(distDir, 'index.html');
  let index: { mtimeMs: number; body: string } | undefined;
  const readIndex = (): string | undefined => {
    if (!existsSync(indexPath)) return undefined;
    const { mtimeMs } = statSync(indexPath);
    if (index?.mtimeMs !== mtimeMs) index = { mtimeMs, body: readFileSync(indexPath, 'utf8') };
    return index.body;
  };

  const page = (_req: Request, res: Response) => {
    const body = readIndex();
    res.set({ 'content-security-policy': CONSOLE_CSP, 'cache-control': 'no-cache' });
    if (body === undefined) res.status(503).type('html').send(NOT_BUILT);
    else res.type('html').send(body);
  };
  for (const { path } of CONSOLE_PAGES) router.get(path, page);

  router.get('/assets/:name', (req, res, next) => {
    const name = req.params.name;
    const path = join(distDir, 'assets', name);
    if (!ASSET_NAME.test(name) || name.endsWith('.gz') || name.endsWith('.br') || !existsSync(path)) return next();
    sendFile(req, res, path, YEAR);
  });
  router.get('/favicon.svg', (req, res, next) => {
    const path = join(distDir, 'favicon.svg');
    if (!existsSync(path)) return next();
    sendFile(req, res, path, 'public, max-age=86400');
  });
  return router;
}
