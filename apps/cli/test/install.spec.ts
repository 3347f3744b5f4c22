// The CLI installed the way the README says: `npm install -g` from the checkout (here into a
// prefix of the test's own), then run by its name from that prefix's bin folder.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT, freePort } from '@ratewire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const prefix = mkdtempSync(join(tmpdir(), 'rw-cli-install-'));
const bin = join(prefix, 'bin', 'ratewire');

beforeAll(() => {
  const npm = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', './apps/cli'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  expect(npm.status, npm.stderr).toBe(0);
}, 120_000);

afterAll(() => rmSync(prefix, { recursive: true, force: true }));

describe('npm install -g from the checkout', () => {
  it('puts a ratewire command on the prefix’s bin that prints its version', () => {
    expect(lstatSync(bin).isSymbolicLink()).toBe(true);
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ratewire \d+\.\d+\.\d+\n$/);
  });

  it('runs commands from the bundle, with the exit code and the one-line error', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const home = mkdtempSync(join(tmpdir(), 'rw-cli-home-'));
    const r = spawnSync(bin, ['rates', 'binance', 'BTCUSDT'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'c'), RATEWIRE_URL: url },
    });
    rmSync(home, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(`error: cannot reach ${url}: ECONNREFUSED`);
  });
});
