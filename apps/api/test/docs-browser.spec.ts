import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@ratewire/testkit/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApi, type TestApi } from './harness.ts';

/** Renders a page in headless Chromium (installed by `npm test`) and returns the DOM after scripts ran. */
function renderInChromium(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'rw-chromium-'));
  const args = [
    '--headless',
    ...CHROMIUM_ARGS,
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=10000',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM_PATH, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let dom = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (dom += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve(dom);
      else reject(new Error(`chromium exited with ${code}`));
    });
  });
}

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

describe('GET /docs in a browser', () => {
  it('renders every documented operation from /openapi.json', async () => {
    const dom = await renderInChromium(`${t.url}/docs`);
    expect(dom).toContain('swagger-ui');
    // both security schemes (bearerAuth, apiKey) give the page its Authorize button
    expect(dom).toMatch(/class="btn authorize/);
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const path of Object.keys(doc.paths)) {
      expect(dom).toContain(`data-path="${path}"`);
    }
  });
});
