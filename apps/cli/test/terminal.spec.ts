// The real `ratewire` (the built bundle, through bin/ratewire.js) in a real terminal (tmux): the
// shell with a hidden password, notifications above a half-typed line, Tab, Ctrl-C and Ctrl-D; the
// progress bar; Ctrl-C of a long-running command; and the same commands piped, with no escape codes.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { startStack, type Stack, type StackUser } from '@ratewire/testkit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Terminal } from './tmux.ts';

const exec = promisify(execFile);
const cliRoot = new URL('..', import.meta.url).pathname;

let stack: Stack;
let user: StackUser;
let term: Terminal;
let home: string;
let env: Record<string, string>;
let prompt: string;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The screen's lines after the first `from` of them (what an action printed). */
const after = (screen: string, from: number) => screen.split('\n').slice(from).join('\n');
/** How many lines hold text so far (the prompt's included): where the next action's output starts. */
const lineCount = async () => (await term.lines()).length;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'rw-term-'));
  // the bundle the run's globalSetup built (test/build-once.ts), in a copy of the package of its own
  // (bin, package.json, dist/) as `npm install -g` lays it out: the terminal runs what a user's
  // `ratewire` runs, and no later build of the checkout's dist/ changes it under a running shell
  const pkg = join(home, 'ratewire-cli');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  copyFileSync(join(cliRoot, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(cliRoot, 'bin', 'ratewire.js'), join(pkg, 'bin', 'ratewire.js'));
  cpSync(join(cliRoot, 'dist'), join(pkg, 'dist'), { recursive: true });
  const binJs = join(pkg, 'bin', 'ratewire.js');
  const started = await startStack();
  stack = started;
  user = await stack.user();
  const bin = join(home, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ratewire'), `#!/bin/sh\nexec '${process.execPath}' '${binJs}' "$@"\n`);
  chmodSync(join(bin, 'ratewire'), 0o755);
  env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
    RATEWIRE_URL: stack.url,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
  };
  term = await Terminal.start({ env, cwd: home });
  prompt = `${user.email.split('@')[0]}@${new URL(stack.url).host}> `;
}, 120_000);

afterAll(async () => {
  await term?.close();
  await stack?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ratewire shell in a terminal', () => {
  it('logs in with a password that is never shown; the credentials file is 0600 in a 0700 folder', async () => {
    await term.line('ratewire shell');
    await term.waitFor(/^ratewire> $/m);
    await term.line('login');
    await term.waitFor(/Email: $/m);
    await term.line(user.email);
    await term.waitFor(/Password: $/m);
    await term.type(user.password);
    // typed, not yet entered: nothing of it on the screen
    expect(await term.screen()).not.toContain(user.password);
    await term.keys('Enter');
    const screen = await term.waitFor(new RegExp(`^${escapeRe(prompt)}$`, 'm'));
    expect(screen).toContain(`Logged in to ${stack.url} as ${user.email}`);
    expect(screen).not.toContain(user.password);
    const dir = join(home, 'config', 'ratewire');
    expect(statSync(join(dir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).not.toContain(user.password);
  });

  it('prints a notification above the prompt while a command is half typed, and the typed text survives', async () => {
    const created = await fetch(`${stack.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        source: 'binance',
        symbol: 'BTCUSDT',
        condition: { type: 'above', level: '900000000' },
        channels: ['ws'],
      }),
    });
    expect(created.status).toBe(201);
    const alert = (await created.json()) as { id: string };
    // a job of the same user submitted elsewhere, run to its end: the shell follows only its own
    const outside = await fetch(`${stack.url}/api/v1/exchange-jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        request_id: `outside-${Date.now()}`,
        exchange_rate: '75.5',
        bills: [{ denomination_id: 1, denomination: 10, count: 5 }],
      }),
    });
    expect(outside.status).toBe(202);
    const { job_id: outsideJob } = (await outside.json()) as { job_id: string };
    await waitUntil(async () => {
      const job = await fetch(`${stack.url}/api/v1/exchange-jobs/${outsideJob}`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      return ((await job.json()) as { status: string }).status === 'done';
    });
    const from = await lineCount();
    await term.type('rates binance BTC');
    await term.waitFor((s) => after(s, from - 1).includes(`${prompt}rates binance BTC`));
    const fired = await fetch(`${stack.url}/api/v1/alerts/${alert.id}/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(fired.status).toBe(202);
    const screen = await term.waitFor((s) => /^\d\d:\d\d:\d\d {2}alerts\.triggered {2}/m.test(after(s, from - 1)));
    const lines = after(screen, from - 1)
      .split('\n')
      .filter((l) => l.trim() !== '');
    const notice = lines.findIndex((l) => l.includes('alerts.triggered'));
    expect(lines[notice]).toContain(`alert ${alert.id.slice(0, 8)}… binance BTCUSDT above 900000000`);
    // the prompt with the half-typed text is drawn again below the notification, the cursor at its end
    expect(lines.slice(notice + 1)).toEqual([`${prompt}rates binance BTC`]);
    expect(screen).not.toContain(outsideJob.slice(0, 8));
    const cursor = await term.cursorLine();
    expect(cursor.text.trimEnd()).toBe(`${prompt}rates binance BTC`);
    expect(cursor.x).toBe(`${prompt}rates binance BTC`.length);
    // the line goes on from where it was, and runs as typed in full
    await term.line('USDT');
    const ran = await term.waitFor((s) => /^BTCUSDT\s+\d/m.test(after(s, from)));
    expect(after(ran, from)).toMatch(/^SYMBOL\s+PRICE\s+STATUS/m);
  });

  it('task submits a job: its bar is drawn in place and finishes; a job left running is notified above the prompt', async () => {
    let from = await lineCount();
    await term.line('task --bill 10x5 --bill 20x3 --rate 75.5');
    let screen = await term.waitFor((s) => /^Total: 8305\.00 RUB$/m.test(after(s, from)));
    const out = after(screen, from);
    // one bar line, redrawn in place to its end (not a line per update)
    expect(out.match(/\[[█░]+\]/g)).toHaveLength(1);
    expect(out).toMatch(/\[█+\]\s+100%\s+done/);
    expect(out).toMatch(/^\s*1\s+3775\.00$/m);
    await term.waitFor((s) => after(s, from).trimEnd().endsWith(prompt.trimEnd()));

    from = await lineCount();
    await term.line('task --bill 10x5 --rate 75.5 --no-follow');
    screen = await term.waitFor((s) => / {2}jobs\.exchange\.completed {2}job /.test(after(s, from)));
    const id = /^Submitted job ([0-9a-f-]{36})/m.exec(after(screen, from))?.[1];
    expect(id).toBeDefined();
    expect(after(screen, from)).toContain(`jobs.exchange.completed  job ${id?.slice(0, 8)}… done total 3775.00 RUB`);
    expect((await term.lines()).at(-1)?.trimEnd()).toBe(prompt.trimEnd());
  });

  it('Tab completes command names and options from the command tree', async () => {
    await term.type('rates bi');
    await term.keys('Tab');
    await term.waitFor((s) => s.trimEnd().endsWith(`${prompt}rates binance`));
    await term.keys('C-u');
    await term.type('task --cu');
    await term.keys('Tab');
    await term.waitFor((s) => s.trimEnd().endsWith(`${prompt}task --currency`));
    await term.keys('C-u');
    await term.waitFor((s) => s.trimEnd().endsWith(prompt.trimEnd()));
  });

  it('Ctrl-C drops the half-typed line without running it; during a command it stops the command, not the shell', async () => {
    let from = await lineCount();
    await term.type('convert 100 USD EUR');
    await term.waitFor((s) => after(s, from - 1).includes('convert 100 USD EUR'));
    await term.keys('C-c');
    let screen = await term.waitFor((s) => {
      const lines = after(s, from - 1)
        .trimEnd()
        .split('\n');
      return lines.length >= 2 && lines.at(-1) === prompt.trimEnd();
    });
    expect(after(screen, from - 1)).toContain(`${prompt}convert 100 USD EUR^C`);
    expect(after(screen, from - 1)).not.toMatch(/100 USD = /);

    from = await lineCount();
    await term.line('watch rates.binance');
    await term.waitFor((s) => /^watching rates\.binance$/m.test(after(s, from)));
    await term.keys('C-c');
    screen = await term.waitFor((s) => after(s, from).trimEnd().endsWith(prompt.trimEnd()));
    // a question a command asks is interrupted the same way
    from = await lineCount();
    await term.line('login');
    await term.waitFor((s) => /^Email: $/m.test(after(s, from)));
    await term.keys('C-c');
    screen = await term.waitFor((s) => after(s, from).trimEnd().endsWith(prompt.trimEnd()));
    expect(after(screen, from)).toMatch(/^error: interrupted$/m);
    // still the shell: it runs the next line
    from = await lineCount();
    await term.line('convert 100 USD EUR');
    screen = await term.waitFor((s) => /^100 USD = \S+ EUR/m.test(after(s, from)));
    expect(screen).toBeTruthy();
  });

  it('cls clears the screen: the prompt is on its first line', async () => {
    await term.line('cls');
    const visible = async () => (await term.visible()).split('\n')[0]?.trimEnd();
    await waitUntil(async () => (await visible()) === prompt.trimEnd());
    expect((await term.visible()).trim()).toBe(prompt.trim());
    // Ctrl-L does the same and keeps the half-typed line
    await term.line('rates binance BTCUSDT');
    await term.waitFor((s) => /^BTCUSDT\s+\d/m.test(s));
    await term.type('rates cbr');
    await term.keys('C-l');
    await waitUntil(async () => (await visible()) === `${prompt}rates cbr`);
    await term.keys('C-u');
  });

  it('Up brings back the commands typed before', async () => {
    await term.keys('Up');
    await term.waitFor((s) => s.trimEnd().endsWith(`${prompt}rates binance BTCUSDT`));
    await term.keys('Up');
    await term.waitFor((s) => s.trimEnd().endsWith(`${prompt}cls`));
    await term.keys('C-u');
    await term.waitFor((s) => s.trimEnd().endsWith(prompt.trimEnd()));
  });

  it('Ctrl-D leaves the shell; the history was kept in a 0600 file', async () => {
    const from = await lineCount();
    await term.keys('C-d');
    await term.waitFor((s) => /^\$ $/m.test(after(s, from)));
    await term.line('echo "exit=$?"');
    await term.waitFor((s) => /^exit=0$/m.test(after(s, from)));
    const file = join(home, 'state', 'ratewire', 'history');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const history = readFileSync(file, 'utf8').split('\n');
    expect(history).toContain('rates binance BTCUSDT');
    expect(history).toContain('task --bill 10x5 --rate 75.5 --no-follow');
    expect(history).not.toContain('convert 100 USD EUR^C');
    expect(history.join('\n')).not.toContain(user.password);
  });
});

describe('ratewire at a bash prompt', () => {
  it('jobs submit draws its bar in place and finishes', async () => {
    const from = await lineCount();
    await term.line('ratewire jobs submit --bill 10x5 --rate 75.5; echo "exit=$?"');
    const screen = await term.waitFor((s) => /^exit=\d+$/m.test(after(s, from)));
    const out = after(screen, from);
    expect(out).toMatch(/^exit=0$/m);
    expect(out.match(/\[[█░]+\]/g)).toHaveLength(1);
    expect(out).toMatch(/\[█+\]\s+100%\s+done/);
    expect(out).toMatch(/^Total: 3775\.00 RUB$/m);
  });

  it('Ctrl-C stops a long-running command with exit code 130', async () => {
    let from = await lineCount();
    await term.line('ratewire login; echo "exit=$?"');
    await term.waitFor((s) => /^Email: $/m.test(after(s, from)));
    await term.keys('C-c');
    await term.waitFor((s) => /^exit=130$/m.test(after(s, from)));
    from = await lineCount();
    await term.line('ratewire watch rates.binance; echo "exit=$?"');
    await term.waitFor((s) => /^watching rates\.binance$/m.test(after(s, from)));
    await term.keys('C-c');
    // bash echoes the ^C the terminal turned into SIGINT
    await term.waitFor((s) => /^(\^C)?exit=130$/m.test(after(s, from)));
  });
});

describe('ratewire piped', () => {
  const sh = async (script: string) => {
    const { stdout, stderr } = await exec('bash', ['-c', script], { env: { ...env, RATEWIRE_TOKEN: user.token } });
    return { stdout, stderr };
  };

  it('rates binance BTCUSDT | cat and --help | cat print no escape codes', async () => {
    const rates = await sh('ratewire rates binance BTCUSDT | cat');
    expect(rates.stdout).toMatch(/^SYMBOL\s+PRICE/);
    expect(rates.stdout).not.toContain('\x1b');
    const help = await sh('ratewire --help | cat');
    expect(help.stdout).toContain('Usage: ratewire');
    expect(help.stdout).toContain('shell');
    expect(help.stdout).not.toContain('\x1b');
  });

  it('the shell reads commands a line at a time from a pipe: no prompt, no escape codes, the last exit code', async () => {
    const script = [
      'rates binance BTCUSDT',
      'task --bill 10x5 --rate 75.5',
      'convert 1 USD',
      'convert 100 USD EUR',
      'help',
    ].join('\n');
    const { stdout, stderr } = await exec('bash', ['-c', `printf '%s\\n' "$SCRIPT" | ratewire shell 2>&1 | cat`], {
      env: { ...env, RATEWIRE_TOKEN: user.token, SCRIPT: script },
    });
    expect(stderr).toBe('');
    expect(stdout).not.toContain('\x1b');
    expect(stdout).not.toContain('ratewire>');
    expect(stdout).toMatch(/^BTCUSDT\s+\d/m);
    expect(stdout).toMatch(/^Total: 3775\.00 RUB$/m);
    expect(stdout).toMatch(/error: missing required argument 'to'/);
    expect(stdout).toMatch(/^100 USD = \S+ EUR/m);
    expect(stdout).toMatch(/^ {2}task …\s+submit an exchange job: the same as `jobs submit …`/m);
    const failing = await exec('bash', ['-c', `printf 'convert 1\\n' | ratewire shell; echo "exit=$?"`], { env });
    expect(failing.stdout).toContain('exit=2');
  });
});
