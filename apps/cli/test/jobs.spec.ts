// Exchange jobs through the CLI against the whole stack: submit from flags, CSV, stdin; follow to
// the end over the job's WS channel (plain lines off a terminal, a bar on one); idempotent resubmit.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { startStack, type Stack } from '@ratewire/testkit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { run } from '../src/main.ts';
import { cliRunner, type CliRunner } from './cli-harness.ts';

let stack: Stack;
let cli: CliRunner;
let userId: string;
const dir = mkdtempSync(join(tmpdir(), 'rw-jobs-'));

beforeAll(async () => {
  stack = await startStack();
  const user = await stack.user();
  userId = user.id;
  cli = cliRunner({ RATEWIRE_URL: stack.url, RATEWIRE_TOKEN: user.token });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const jobIdIn = (text: string) => /Submitted job (\S+)/.exec(text)?.[1] ?? /^Job (\S+)/m.exec(text)?.[1];

describe('jobs submit', () => {
  it('follows a job from --bill flags to its breakdown: 10×5 and 20×3 at 75.5 are 3775.00 and 4530.00', async () => {
    const r = await cli.run(['jobs', 'submit', '--bill', '10x5', '--bill', '20x3', '--rate', '75.5']);
    expect(r.stderr).toMatch(/Submitted job [0-9a-f-]{36} \(request id [0-9a-f-]{36}; submit again with --request-id/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Rate: 75.5 RUB',
        'DENOMINATION ID  SUBTOTAL RUB',
        '              1       3775.00',
        '              2       4530.00',
        'Total: 8305.00 RUB',
        '',
      ].join('\n'),
    );
    // off a terminal: plain status lines, no escape codes anywhere
    expect(r.stderr).toMatch(/job [0-9a-f-]{36}: done 100%/);
    expect(r.stdout + r.stderr).not.toContain('\x1b');
    expect(r.stderr).not.toContain('\r');
  });

  it('reads bills from a CSV file, with given denomination ids', async () => {
    const file = join(dir, 'bills.csv');
    writeFileSync(file, 'denomination_id,denomination,count\n7,100,2\n9,0.5,3\n');
    const r = await cli.run(['jobs', 'submit', '--file', file, '--rate', '90.1234', '--json']);
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as { status: string; breakdown: unknown; total_rub: string };
    expect(job.status).toBe('done');
    expect(job.breakdown).toEqual([
      { denomination_id: 7, subtotal_rub: '18024.68' },
      { denomination_id: 9, subtotal_rub: '135.19' },
    ]);
    expect(job.total_rub).toBe('18159.87');
  });

  it('reads a whole JSON body from stdin (its rate and request id too), and --json matches GET', async () => {
    const requestId = `stdin-${Date.now()}`;
    const body = {
      request_id: requestId,
      exchange_rate: '2',
      bills: [{ denomination_id: 1, denomination: 5, count: 4 }],
    };
    const r = await cli.run(['jobs', 'submit', '--file', '-', '--json'], { stdin: JSON.stringify(body) });
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as { job_id: string; request_id: string; total_rub: string };
    expect(job).toMatchObject({ request_id: requestId, status: 'done', total_rub: '40.00' });
    const got = await cli.run(['jobs', 'get', job.job_id, '--json']);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual(job);
  });

  it('reads a bare JSON array of bills from a file, decimal strings kept exact', async () => {
    const file = join(dir, 'bills.json');
    writeFileSync(file, JSON.stringify([{ denomination_id: 4, denomination: '0.01', count: 3 }]));
    const r = await cli.run(['jobs', 'submit', '--file', file, '--rate', '0.5', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      rate: '0.5',
      breakdown: [{ denomination_id: 4, subtotal_rub: '0.02' }],
      total_rub: '0.02',
    });
  });

  it('reads CSV without ids from stdin', async () => {
    const r = await cli.run(['jobs', 'submit', '--file', '-', '--rate', '3'], {
      stdin: 'denomination,count\n10,1\n20,2\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('              1         30.00\n              2        120.00\nTotal: 150.00 RUB');
  });

  it('--currency USD uses the latest CBR unit rate the stack replayed', async () => {
    const rates = await cli.run(['rates', 'cbr', '--symbols', 'USD', '--json']);
    const unit = (JSON.parse(rates.stdout) as { rates: Record<string, { unit_rate: string }> }).rates['USD']?.unit_rate;
    expect(unit).toMatch(/^\d+\.\d+$/);
    const r = await cli.run(['jobs', 'submit', '--bill', '1x1', '--currency', 'usd', '--json']);
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as { currency: string; rate: string; status: string };
    expect(job).toMatchObject({ currency: 'USD', status: 'done' });
    expect(job.rate).toBe(unit);
  });

  it('the same --request-id and body give the same job; another body is refused with the 409 message', async () => {
    const id = `order-${Date.now()}`;
    const first = await cli.run(['jobs', 'submit', '--bill', '10x5', '--rate', '75.5', '--request-id', id]);
    expect(first.code).toBe(0);
    const again = await cli.run(['jobs', 'submit', '--bill', '10x5', '--rate', '75.5', '--request-id', id]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`the same request ${id} was submitted before`);
    expect(jobIdIn(again.stderr)).toBe(jobIdIn(first.stderr));
    expect(again.stdout).toBe(first.stdout);
    const other = await cli.run(['jobs', 'submit', '--bill', '10x6', '--rate', '75.5', '--request-id', id]);
    expect(other.code).toBe(1);
    expect(other.stderr).toBe(`error: request_id ${id} was used with another body (HTTP 409, request_id_conflict)\n`);
  });

  it('a bad bill, a bad count or a missing rate is a usage error (exit 2) and nothing is sent', async () => {
    const before = await cli.run(['jobs', 'list', '--json']);
    const total = (JSON.parse(before.stdout) as { total: number }).total;
    const cases: [string[], RegExp][] = [
      [['--bill', '10y5', '--rate', '1'], /--bill "10y5": expected DENOMINATION x COUNT/],
      [['--bill', '10x0', '--rate', '1'], /bills\.0\.count: must be at least 1/],
      [['--bill', '10x5'], /give exactly one of --rate or --currency/],
      [['--bill', '10x5', '--rate', '1', '--currency', 'USD'], /give exactly one of --rate or --currency/],
      [['--bill', '10x5', '--rate', 'abc'], /exchange_rate: /],
      [['--bill', '10x5', '--rate', '1', '--callback-url', 'ftp://x'], /callback_url: expected an http/],
    ];
    for (const [args, message] of cases) {
      const r = await cli.run(['jobs', 'submit', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(message);
      expect(r.stdout).toBe('');
    }
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'denomination,count\n10,two\n');
    const csv = await cli.run(['jobs', 'submit', '--file', bad, '--rate', '1']);
    expect(csv.code).toBe(2);
    expect(csv.stderr).toContain(`${bad}: line 2: count: expected a whole number`);
    const after = await cli.run(['jobs', 'list', '--json']);
    expect((JSON.parse(after.stdout) as { total: number }).total).toBe(total);
  });

  it('a currency with no CBR rate is refused at submit (exit 1, the field named); no job is made to fail', async () => {
    const r = await cli.run(['jobs', 'submit', '--bill', '10x1', '--currency', 'XYZ']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: the request is not valid (HTTP 422, validation_failed); body.currency: no CBR rate is known for XYZ\n',
    );
    expect(r.stdout).toBe('');
  });

  it('--help explains the bill syntax and shows examples', async () => {
    const r = await cli.run(['jobs', 'submit', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--bill ID:DENOMINATIONxCOUNT');
    expect(r.stdout).toContain('$ ratewire jobs submit --bill 10x5 --bill 20x3 --rate 75.5');
    for (const cmd of [
      ['jobs', 'watch'],
      ['jobs', 'get'],
      ['jobs', 'list'],
      ['exchange', 'calculate'],
    ])
      expect((await cli.run([...cmd, '--help'])).stdout, cmd.join(' ')).toContain(
        `Examples:\n  $ ratewire ${cmd.join(' ')}`,
      );
  });

  it('--no-follow prints the job id alone and exits; jobs watch follows it to the end', async () => {
    const r = await cli.run(['jobs', 'submit', '--bill', '3x3', '--rate', '1.5', '--no-follow']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${UUID.source}\n$`));
    const id = r.stdout.trim();
    const w = await cli.run(['jobs', 'watch', id, '--exit-status']);
    expect(w.code).toBe(0);
    expect(w.stdout).toContain('              1         13.50\nTotal: 13.50 RUB');
  });

  it('a job the worker fails: jobs watch --exit-status exits 5 with the reason; without it, 0', async () => {
    const id = await stack.unprocessableJob(userId);
    const w = await cli.run(['jobs', 'watch', id, '--exit-status']);
    expect(w.stderr).toContain(`Job ${id} failed: stored request has invalid bills`);
    expect(w.code).toBe(5);
    expect(w.stdout).toBe('');
    const plain = await cli.run(['jobs', 'watch', id]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain(`Job ${id} failed`);
    const json = await cli.run(['jobs', 'get', id, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ job_id: id, status: 'failed', breakdown: null });
  });

  it('jobs watch and get of an unknown job exit 3', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expect((await cli.run(['jobs', 'watch', id])).code).toBe(3);
    const g = await cli.run(['jobs', 'get', id]);
    expect(g.code).toBe(3);
    expect(g.stderr).toMatch(/^error: .*HTTP 404/);
  });

  it('without a credential: exit 4 before anything is sent', async () => {
    const anon = cliRunner({ RATEWIRE_URL: stack.url });
    const r = await anon.run(['jobs', 'submit', '--bill', '1x1', '--rate', '1']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('not logged in');
  });
});

describe('on a terminal', () => {
  /** Runs with stdout and stderr that say they are a terminal, 60 columns wide, colour allowed. */
  async function runTty(args: string[], onStderr?: (text: string, abort: () => void) => void) {
    const user = await stack.user();
    const home = mkdtempSync(join(tmpdir(), 'rw-tty-'));
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 60 });
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 60 });
    const stdin = new PassThrough();
    stdin.end();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const controller = new AbortController();
    stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      onStderr?.(err, () => controller.abort());
    });
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'c'), RATEWIRE_URL: stack.url, RATEWIRE_TOKEN: user.token };
    const code = await run(args, { stdout, stderr, stdin, env, signal: controller.signal });
    return { code, stdout: out, stderr: err };
  }

  it('draws the bar in place on stderr, ends it full on its own line, and prints the breakdown', async () => {
    const r = await runTty(['jobs', 'submit', '--bill', '10x5', '--bill', '20x3', '--rate', '75.5']);
    expect(r.code).toBe(0);
    const frames = r.stderr.split('\r').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const f of frames) expect(f).toMatch(/^\[[█░]+\] +\d+% +\w+/);
    const ERASE = '\x1b[K';
    for (const f of frames) expect(f.endsWith(ERASE) || f.endsWith(`${ERASE}\n`), JSON.stringify(f)).toBe(true);
    expect(frames.at(-1)).toMatch(/^\[█+\] {2}100% {2}done {2}job [0-9a-f]{8}\S+\n$/);
    expect(frames.at(-1)?.endsWith(`${ERASE}\n`)).toBe(true);
    for (const f of frames) expect(f.slice(0, f.indexOf(ERASE)).length).toBeLessThan(60);
    expect(r.stdout).toContain('              1       3775.00\n              2       4530.00\nTotal: 8305.00 RUB');
  });

  it('Ctrl-C while following exits 130 and says the job keeps running, with its id', async () => {
    const r = await runTty(['jobs', 'submit', '--bill', '10x5', '--rate', '2'], (text, abort) => {
      if (text.includes('Submitted job')) abort();
    });
    expect(r.code).toBe(130);
    const id = jobIdIn(r.stderr) ?? '';
    expect(id).toMatch(UUID);
    expect(r.stderr).toContain(`error: interrupted: job ${id} keeps running on the service\n`);
    expect(r.stderr).toContain(`ratewire jobs watch ${id}`);
    expect(r.stdout).toBe('');
  });

  it('--json draws no bar even on a terminal', async () => {
    const r = await runTty(['jobs', 'submit', '--bill', '10x5', '--rate', '2', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'done', total_rub: '100.00' });
  });
});

describe('jobs list and get', () => {
  let own: CliRunner;
  beforeAll(async () => {
    const user = await stack.user();
    own = cliRunner({ RATEWIRE_URL: stack.url, RATEWIRE_TOKEN: user.token });
    for (const rate of ['1', '2', '3'])
      expect((await own.run(['jobs', 'submit', '--bill', '10x1', '--rate', rate])).code).toBe(0);
  });

  it('lists the jobs newest first as a table, a page with --limit, and as CSV', async () => {
    const r = await own.run(['jobs', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^JOB ID\s+STATUS\s+RATE\s+CURRENCY\s+TOTAL RUB\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[4])).toEqual(['30.00', '20.00', '10.00']);
    const page = await own.run(['jobs', 'list', '--limit', '1']);
    expect(page.stdout).toContain('1 of 3 jobs; see more with --offset 1');
    const done = await own.run(['jobs', 'list', '--status', 'failed']);
    expect(done.stdout).toBe('No failed jobs on this page.\n');
    const csv = await own.run(['jobs', 'list', '--csv']);
    expect(csv.code).toBe(0);
    const rows = csv.stdout.trimEnd().split(/\r?\n/);
    expect(rows[0]).toBe('job_id,request_id,status,currency,rate,total_rub,error,created_at,started_at,completed_at');
    expect(rows).toHaveLength(4);
  });

  it('get shows the record with the callback state and the breakdown', async () => {
    const list = JSON.parse((await own.run(['jobs', 'list', '--json'])).stdout) as { items: { job_id: string }[] };
    const id = list.items[0]?.job_id ?? '';
    const r = await own.run(['jobs', 'get', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^job id +${id}\n`));
    expect(r.stdout).toMatch(/\nstatus +done\n/);
    expect(r.stdout).toMatch(/\ncallback +none\n/);
    expect(r.stdout).toContain('Total: 30.00 RUB');
  });
});

describe('exchange calculate', () => {
  it('answers the breakdown at once with the same bill flags', async () => {
    const r = await cli.run(['exchange', 'calculate', '--bill', '10x5', '--bill', '20x3', '--rate', '75.5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('              1       3775.00\n              2       4530.00\nTotal: 8305.00 RUB');
    const bad = await cli.run(['exchange', 'calculate', '--bill', 'x', '--rate', '1']);
    expect(bad.code).toBe(2);
  });
});
