// apps/api/openapi.json is the committed copy of the document the api serves at /openapi.json, for
// readers and client generators that do not run the api. This test keeps it current:
// `pnpm --filter @ratewire/api openapi` rewrites it from the running routes.
import { readFileSync, writeFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApi, type TestApi } from './harness.ts';

const FILE = new URL('../openapi.json', import.meta.url);

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

describe('apps/api/openapi.json', () => {
  it('is the document the api serves', async () => {
    const served = await (await fetch(`${t.url}/openapi.json`)).json();
    const text = `${JSON.stringify(served, null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(FILE, text);
    const committed = JSON.parse(readFileSync(FILE, 'utf8')) as unknown;
    expect(committed, 'apps/api/openapi.json is stale: run `pnpm --filter @ratewire/api openapi`').toEqual(served);
  });
});
