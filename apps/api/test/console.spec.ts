// The web console as the api serves it from the real build (apps/web/dist): page paths answer the
// app under the console's CSP, hashed assets are immutable and sent precompressed to whoever accepts
// it, and without a build the pages say how to make one.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WEB_DIST_DIR } from '../src/compose.ts';
import { CONSOLE_CSP } from '../src/console/console.routes.ts';
import { startTestApi, type TestApi } from './harness.ts';

let t: TestApi;
let entry: string;
beforeAll(async () => {
  t = await startTestApi();
  const index = readFileSync(join(WEB_DIST_DIR, 'index.html'), 'utf8');
  entry = /<script[^>]+src="(\/assets\/[\w.-]+\.js)"/.exec(index)![1]!;
});
afterAll(async () => {
  await t?.close();
});

const raw = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers });

describe('GET / and the other console pages', () => {
  it('answer the built index.html with the console CSP and no-cache', async () => {
    const built = readFileSync(join(WEB_DIST_DIR, 'index.html'), 'utf8');
    for (const path of ['/', '/charts', '/convert', '/jobs', '/alerts', '/account']) {
      const res = await raw(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(built);
    }
  });

  it('leave the API, the documents and the mailed-link pages as they were', async () => {
    expect((await raw('/docs')).headers.get('content-type')).toMatch(/^text\/html/);
    expect(await (await raw('/account/confirm')).text()).toContain('Confirm your email');
    expect((await raw('/api/v1/nope')).headers.get('content-type')).toMatch(/problem\+json/);
    expect((await raw('/console-page-that-does-not-exist')).status).toBe(404);
  });
});

describe('GET /assets/:name', () => {
  it('sends brotli to a client that accepts it, gzip to one that accepts only gzip, and the file to others', async () => {
    // fetch decodes what it is sent: the bytes on the wire are the precompressed copy's
    const file = readFileSync(join(WEB_DIST_DIR, entry));
    const sizeOf = (suffix: string) => String(statSync(join(WEB_DIST_DIR, `${entry}${suffix}`)).size);
    const br = await raw(entry, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('content-length')).toBe(sizeOf('.br'));
    expect(Buffer.from(await br.arrayBuffer())).toEqual(file);
    const gz = await raw(entry, { 'accept-encoding': 'gzip' });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('content-length')).toBe(sizeOf('.gz'));
    expect(Buffer.from(await gz.arrayBuffer())).toEqual(file);
    const refused = await raw(entry, { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers.get('content-encoding')).toBeNull();
    expect(Buffer.from(await refused.arrayBuffer())).toEqual(file);
    for (const res of [br, gz, refused]) {
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('vary')).toBe('Accept-Encoding');
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    }
  });

  it('answers 404 for names it does not hold, the precompressed copies themselves, and paths out of the folder', async () => {
    for (const path of [
      '/assets/nope.js',
      `${entry}.br`,
      '/assets/..%2Findex.html',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    ]) {
      expect((await raw(path)).status, path).toBe(404);
    }
  });
});

describe('without a build', () => {
  it('the pages answer 503 and say how to build the console', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rw-no-console-'));
    const bare = await startTestApi({ WEB_DIST_DIR: empty });
    try {
      const res = await fetch(`${bare.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('pnpm --filter @ratewire/web build');
      expect((await fetch(`${bare.url}/api/v1/currencies`)).status).toBe(200);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
