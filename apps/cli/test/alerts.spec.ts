// Rate alerts through the CLI against the whole stack: every condition kind, the list, pause and
// resume, a test firing seen by `alerts events` and live by `alerts watch`, deletion.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { startStack, type Stack } from '@ratewire/testkit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { run } from '../src/main.ts';
import { cliRunner, type CliRunner } from './cli-harness.ts';

let stack: Stack;
let cli: CliRunner;
let token: string;

beforeAll(async () => {
  stack = await startStack();
  token = (await stack.user()).token;
  cli = cliRunner({ RATEWIRE_URL: stack.url, RATEWIRE_TOKEN: token });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const idOf = (stdout: string) => /^id +(\S+)$/m.exec(stdout)?.[1] ?? '';

describe('alerts add, list, get', () => {
  const ids: string[] = [];

  it('creates one alert of each condition kind, printing the alert with its id first', async () => {
    const cases: [string[], string][] = [
      [['--source', 'binance', '--symbol', 'btcusdt', '--above', '100000.5'], 'above 100000.5'],
      [['--source', 'binance', '--symbol', 'ETHUSDT', '--below', '1500'], 'below 1500'],
      [
        [
          '--source',
          'binance',
          '--symbol',
          'ETHUSDT',
          '--crosses-above',
          '4000',
          '--frequency',
          'every_time',
          '--cooldown',
          '60',
          '--rearm-pct',
          '1.5',
        ],
        'crosses above 4000',
      ],
      [
        ['--source', 'cbr', '--symbol', 'USD', '--crosses-below', '80', '--frequency', 'once_per_day'],
        'crosses below 80',
      ],
      [
        ['--source', 'binance', '--symbol', 'BTCUSDT', '--pct-change', '5', '--window', '1h', '--direction', 'down'],
        '-5% in 1h',
      ],
    ];
    for (const [args, condition] of cases) {
      const r = await cli.run(['alerts', 'add', ...args]);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.split('\n')[0]).toMatch(/^id +[0-9a-f-]{36}$/);
      expect(r.stdout).toMatch(new RegExp(`\\ncondition +${condition.replace(/[+.]/g, '\\$&')}\\n`));
      expect(r.stdout).toMatch(/\nstatus +active\n/);
      expect(r.stderr).toBe(`Created alert ${idOf(r.stdout)}\n`);
      ids.push(idOf(r.stdout));
    }
    const every = await cli.run(['alerts', 'get', ids[2] ?? '', '--json']);
    expect(JSON.parse(every.stdout)).toMatchObject({
      frequency: 'every_time',
      cooldown_seconds: 60,
      rearm_pct: '1.5',
      channels: ['ws'],
      condition: { type: 'crosses_above', level: '4000' },
    });
  });

  it('lists them newest first as a table with their condition, and as CSV', async () => {
    const r = await cli.run(['alerts', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +SOURCE +SYMBOL +CONDITION +FREQUENCY +STATUS +FIRED$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual([...ids].reverse());
    expect(lines[1]).toMatch(/binance +BTCUSDT +-5% in 1h +once +active +0$/);
    expect(lines[2]).toMatch(/cbr +USD +crosses below 80 +once_per_day +active +0$/);
    const csv = await cli.run(['alerts', 'list', '--csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split(/\r?\n/)[0]).toMatch(/^id,user_id,source,symbol,condition,/);
    expect(csv.stdout.trimEnd().split(/\r?\n/)).toHaveLength(ids.length + 1);
  });

  it('a bad level, no condition, two conditions, or a bad window are usage errors (exit 2); nothing is created', async () => {
    const cases: [string[], RegExp][] = [
      [['--source', 'binance', '--symbol', 'BTCUSDT', '--above', 'abc'], /^error: condition\.level: /],
      [['--source', 'binance', '--symbol', 'BTCUSDT'], /^error: no condition given/],
      [
        ['--source', 'binance', '--symbol', 'BTCUSDT', '--above', '1', '--below', '2'],
        /^error: more than one condition/,
      ],
      [
        ['--source', 'cbr', '--symbol', 'USD', '--pct-change', '3', '--window', '1h'],
        /condition\.window: CBR publishes once a day/,
      ],
      [['--source', 'binance', '--symbol', 'BTCUSDT', '--pct-change', '3'], /--pct-change needs --window/],
      [
        ['--source', 'binance', '--symbol', 'BTCUSDT', '--above', '1', '--channel', 'callback'],
        /callback_url: required/,
      ],
      [['--source', 'binance', '--symbol', 'BTCUSDT', '--above', '1', '--cooldown', '1.5'], /--cooldown "1.5"/],
      [['--source', 'nyse', '--symbol', 'X', '--above', '1'], /nyse/],
    ];
    for (const [args, message] of cases) {
      const r = await cli.run(['alerts', 'add', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    const list = JSON.parse((await cli.run(['alerts', 'list', '--json'])).stdout) as { total: number };
    expect(list.total).toBe(ids.length);
  });

  it('every alerts command has --help examples', async () => {
    for (const sub of ['add', 'list', 'get', 'rm', 'pause', 'resume', 'test', 'events', 'watch']) {
      const r = await cli.run(['alerts', sub, '--help']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toContain(`Examples:\n  $ ratewire alerts ${sub}`);
    }
  });

  it('pause and resume change the status; --status filters the list', async () => {
    const id = ids[0] ?? '';
    const p = await cli.run(['alerts', 'pause', id]);
    expect(p.code).toBe(0);
    expect(p.stderr).toBe(`Paused alert ${id}: paused\n`);
    expect(p.stdout).toMatch(/\nstatus +paused\n/);
    const paused = await cli.run(['alerts', 'list', '--status', 'paused']);
    expect(
      paused.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual([id]);
    const r = await cli.run(['alerts', 'resume', id, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id, status: 'active' });
    expect((await cli.run(['alerts', 'list', '--status', 'paused'])).stdout).toBe('No paused alerts.\n');
  });

  it('rm deletes: get is then exit 3', async () => {
    const id = ids.pop() ?? '';
    const r = await cli.run(['alerts', 'rm', id]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`Deleted alert ${id}\n`);
    const g = await cli.run(['alerts', 'get', id]);
    expect(g.code).toBe(3);
    expect(g.stderr).toMatch(/^error: .*HTTP 404/);
    expect((await cli.run(['alerts', 'rm', id])).code).toBe(3);
  });
});

describe('alerts test, events and watch', () => {
  /** Runs a command whose stderr the test reads as it comes (to act once it is subscribed). */
  function start(args: string[], onStderr: (text: string) => void, onStdout?: (text: string) => void) {
    const home = mkdtempSync(join(tmpdir(), 'rw-alerts-'));
    const [stdout, stderr, stdin] = [new PassThrough(), new PassThrough(), new PassThrough()];
    stdin.end();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      onStdout?.(out);
    });
    stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      onStderr(err);
    });
    const controller = new AbortController();
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'c'),
      NO_COLOR: '1',
      RATEWIRE_URL: stack.url,
      RATEWIRE_TOKEN: token,
    };
    const done = run(args, { stdout, stderr, stdin, env, signal: controller.signal }).then((code) => ({
      code,
      stdout: out,
      stderr: err,
    }));
    return { done, abort: () => controller.abort() };
  }

  it('a test firing reaches `alerts watch` live and is listed, marked test, by `alerts events`', async () => {
    const add = await cli.run([
      'alerts',
      'add',
      '--source',
      'binance',
      '--symbol',
      'BTCUSDT',
      '--crosses-above',
      '123456.78',
    ]);
    const id = idOf(add.stdout);
    expect((await cli.run(['alerts', 'events', id])).stdout).toBe('No firings yet.\n');

    let tested: Promise<unknown> | undefined;
    const watch = start(['alerts', 'watch', '--max', '1'], (err) => {
      if (!tested && err.includes('Watching alerts:')) tested = cli.run(['alerts', 'test', id]);
    });
    const w = await watch.done;
    const t = (await tested) as { code: number; stdout: string; stderr: string };
    expect(t.code).toBe(0);
    const eventId = t.stdout.trim();
    expect(t.stderr).toBe(`Test firing ${eventId} sent to alert ${id}'s channels\n`);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(
      new RegExp(`^\\S+Z  ${id}  binance BTCUSDT crosses above 123456.78: \\S+( previous \\S+)?  \\(test\\)\\n$`),
    );

    const ev = await cli.run(['alerts', 'events', id]);
    expect(ev.code).toBe(0);
    const lines = ev.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FIRED AT +OBSERVED AT +VALUE +PREVIOUS +CHANGE % +TEST$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/ test$/);
    const json = JSON.parse((await cli.run(['alerts', 'events', id, '--json'])).stdout) as {
      items: { id: string; test: boolean }[];
    };
    expect(json.items).toEqual([expect.objectContaining({ id: eventId, test: true })]);
  });

  it('a real firing (above, judged at creation) ends `alerts watch --exit-status` with 5; the alert is triggered', async () => {
    let added: Promise<{ code: number; stdout: string }> | undefined;
    const watch = start(['alerts', 'watch', '--exit-status'], (err) => {
      if (!added && err.includes('Watching alerts:'))
        added = cli.run(['alerts', 'add', '--source', 'binance', '--symbol', 'BTCUSDT', '--above', '1']);
    });
    const w = await watch.done;
    const a = await added;
    expect(a?.code).toBe(0);
    const id = idOf(a?.stdout ?? '');
    expect(w.code).toBe(5);
    expect(w.stdout).toMatch(new RegExp(`^\\S+Z  ${id}  binance BTCUSDT above 1: \\d+(\\.\\d+)?( previous \\S+)?\\n$`));
    const got = JSON.parse((await cli.run(['alerts', 'get', id, '--json'])).stdout) as {
      status: string;
      fired_count: number;
    };
    expect(got).toMatchObject({ status: 'triggered', fired_count: 1 });
    const ev = await cli.run(['alerts', 'events', id]);
    const row = ev.stdout.trimEnd().split('\n')[1] ?? '';
    expect(row).not.toMatch(/test$/);
    expect(row).toContain(/: (\S+)/.exec(w.stdout)?.[1] ?? 'a value');
  });

  it('watch --json prints each firing as one JSON line; Ctrl-C ends it with 130', async () => {
    const add = await cli.run(['alerts', 'add', '--source', 'cbr', '--symbol', 'EUR', '--above', '1000']);
    const id = idOf(add.stdout);
    let tested: Promise<{ code: number; stdout: string }> | undefined;
    let stop = () => {};
    const watch = start(
      ['alerts', 'watch', '--json'],
      (err) => {
        if (!tested && err.includes('Watching alerts:')) tested = cli.run(['alerts', 'test', id]);
      },
      (out) => {
        if (out.endsWith('\n')) stop();
      },
    );
    stop = watch.abort;
    const w = await watch.done;
    expect(w.code).toBe(130);
    const t = await tested;
    expect(t?.code).toBe(0);
    const lines = w.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      type: 'alert.triggered',
      alert_id: id,
      event_id: t?.stdout.trim(),
      test: true,
      source: 'cbr',
      symbol: 'EUR',
      condition: { type: 'above', level: '1000' },
    });
  });
});
