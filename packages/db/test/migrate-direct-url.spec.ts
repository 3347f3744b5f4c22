// The migrate CLI (what `pnpm db:migrate`, the compose `migrate` service and the Kubernetes Job run)
// as a real process: with DATABASE_DIRECT_URL set it migrates through that URL alone — DATABASE_URL
// points at a port nobody listens on — and without it, at that same DATABASE_URL, it fails.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { commonSettingsSchema } from '@ratewire/contracts';
import { parseSettings } from '@ratewire/runtime';

const CLI = fileURLToPath(new URL('../src/cli/migrate.ts', import.meta.url));
const base = parseSettings(commonSettingsSchema, process.env).DATABASE_URL;
const name = `rw_t_direct_${randomBytes(4).toString('hex')}`;
const withDatabase = (db: string) => Object.assign(new URL(base), { pathname: `/${db}` }).toString();

/** A loopback port that was free a moment ago: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function migrate(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { DATABASE_URL: _url, DATABASE_DIRECT_URL: _direct, ...rest } = process.env;
  const child = spawn(process.execPath, [CLI, 'latest'], {
    env: { ...rest, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((r) => child.on('exit', (code) => r({ code, output })));
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: withDatabase('postgres') });
  await admin.connect();
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
});

describe('pnpm db:migrate with DATABASE_DIRECT_URL', () => {
  it('migrates through DATABASE_DIRECT_URL while DATABASE_URL is out of reach', { timeout: 60_000 }, async () => {
    const unreachable = Object.assign(new URL(withDatabase(name)), { port: String(await closedPort()) }).toString();

    const without = await migrate({ DATABASE_URL: unreachable });
    expect(without.code).not.toBe(0);
    expect(without.output).toMatch(/ECONNREFUSED/);

    const withDirect = await migrate({ DATABASE_URL: unreachable, DATABASE_DIRECT_URL: withDatabase(name) });
    expect(withDirect.output).toMatch(/migrate latest: done/);
    expect(withDirect.code).toBe(0);

    // the database was created and migrated through the direct URL
    const client = new pg.Client({ connectionString: withDatabase(name) });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        "select count(*) as n from information_schema.tables where table_schema = 'public' and table_name = 'users'",
      );
      expect(rows[0]?.n).toBe('1');
    } finally {
      await client.end();
    }
  });
});
