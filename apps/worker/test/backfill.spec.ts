// The backfill command as a real process against the replay server: one request at a time,
// date_req per day, progress shown, and resumable (days already resolved are not asked again).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT, createTestDatabase, serviceUrls, waitFor, type TestDatabase } from '@ratewire/testkit';
import { startReplayServer, type ReplayServer } from '@ratewire/testkit/replay/replay-server';

let database: TestDatabase;
let replay: ReplayServer;

function backfill(args: string[]) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/worker/src/cli/backfill.ts'), ...args], {
    env: { ...process.env, ...serviceUrls(), DATABASE_URL: database.url, CBR_BASE_URL: replay.url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  return { child, exited, output: () => output };
}

const resolved = async () =>
  new Map(
    (await database.db.selectFrom('cbr_days').select(['requested', 'effective']).orderBy('requested').execute()).map(
      (r) => [r.requested, r.effective],
    ),
  );

beforeAll(async () => {
  database = await createTestDatabase();
  replay = await startReplayServer();
});

afterAll(async () => {
  await replay?.close();
  await database?.drop();
});

describe('backfill --from --to', () => {
  it('refuses bad arguments with a usage message', async () => {
    const run = backfill(['--from', '2021-03-20', '--to', '2021-03-01']);
    expect(await run.exited).toBe(64);
    expect(run.output()).toMatch(/--from is after --to[\s\S]*usage: backfill/);
  });

  it('fetches each day once, one request at a time, and stores each under its effective date', async () => {
    const run = backfill(['--from', '2021-03-15', '--to', '2021-03-28', '--pause-ms', '20']);
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/14 days, 14 to fetch/);
    expect(run.output()).toMatch(/14\/14 done/);
    // one day after the other, in order
    expect(replay.requests.map((r) => r.url)).toEqual(
      Array.from({ length: 14 }, (_, i) => `/scripts/XML_daily.asp?date_req=${String(15 + i)}/03/2021`),
    );
    const days = await resolved();
    expect(days.get('2021-03-15')).toBe('2021-01-29');
    expect(days.get('2021-03-17')).toBe('2021-03-17');
    expect(days.get('2021-03-26')).toBe('2021-03-17');
    expect(days.get('2021-03-28')).toBe('2021-03-27');
    const stored = await database.db.selectFrom('cbr_rates').select('date').distinct().orderBy('date').execute();
    expect(stored.map((d) => d.date)).toEqual(['2021-01-29', '2021-03-17', '2021-03-27']);
  });

  it('run again over a wider range: asks only for the days it does not have', async () => {
    replay.reset();
    const run = backfill(['--from', '2021-03-10', '--to', '2021-03-30', '--pause-ms', '0']);
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/21 days, 7 to fetch, 14 already stored/);
    expect(replay.requests.map((r) => r.query.get('date_req')).sort()).toEqual(
      ['10/03/2021', '11/03/2021', '12/03/2021', '13/03/2021', '14/03/2021', '29/03/2021', '30/03/2021'].sort(),
    );
  });

  it('stopped half-way (SIGINT), it resumes where it ended', async () => {
    replay.reset();
    const first = backfill(['--from', '2020-06-01', '--to', '2020-06-30', '--pause-ms', '150']);
    await waitFor(async () => (await resolved()).size >= 21 + 4, { timeoutMs: 20_000, what: 'a few days stored' });
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    expect(first.output()).toMatch(/run the same command again to resume/);
    const afterFirst = (await resolved()).size - 21;
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(30);

    replay.reset();
    const second = backfill(['--from', '2020-06-01', '--to', '2020-06-30', '--pause-ms', '0']);
    expect(await second.exited).toBe(0);
    expect(replay.requests).toHaveLength(30 - afterFirst);
    expect((await resolved()).size).toBe(21 + 30);
  });
});
