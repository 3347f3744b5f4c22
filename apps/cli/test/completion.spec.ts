// Completion from the command tree: the bash script in a real bash (its function called as bash's
// completion calls it), the zsh script in a real zsh at a terminal (tmux, Tab pressed), and the
// shell's own Tab completion.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Ctx } from '../src/core/context.ts';
import { Shell } from '../src/shell/shell.actions.ts';
import { cliRunner } from './cli-harness.ts';
import { Terminal } from './tmux.ts';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'rw-completion-'));
let bashFile: string;
let zshFile: string;

beforeAll(async () => {
  const cli = cliRunner();
  const bash = await cli.run(['completion', 'bash']);
  const zsh = await cli.run(['completion', 'zsh']);
  expect(bash.code).toBe(0);
  expect(zsh.code).toBe(0);
  bashFile = join(dir, 'ratewire.bash');
  zshFile = join(dir, '_ratewire');
  writeFileSync(bashFile, bash.stdout);
  writeFileSync(zshFile, zsh.stdout);
});

/** What bash's completion of `words` (the last one being typed) offers. */
async function bashComplete(...words: string[]): Promise<string[]> {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _ratewire; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await exec('bash', ['--norc', '-c', script, 'bash', bashFile, ...words]);
  return stdout.split('\n').filter((l) => l !== '');
}

describe('ratewire completion bash', () => {
  it('completes commands, subcommands and options at every depth', async () => {
    expect(await bashComplete('ratewire', 'ra')).toEqual(['rates']);
    expect(await bashComplete('ratewire', 'rates', 'b')).toEqual(['binance']);
    expect(await bashComplete('ratewire', 'jobs', 'submit', '--cu')).toEqual(['--currency']);
    expect(await bashComplete('ratewire', 'rates', 'cbr', 'series', '--')).toEqual(
      expect.arrayContaining(['--from', '--to', '--group', '--csv', '--help', '--json', '--url']),
    );
    expect(await bashComplete('ratewire', 'reg')).toEqual(['register', 'registr']);
  });

  it('skips global options and their values on the way down, and offers an option’s choices', async () => {
    expect(await bashComplete('ratewire', '--url', 'http://x', '--json', 'rates', 'bin')).toEqual(['binance']);
    expect(await bashComplete('ratewire', 'rates', 'cbr', 'series', 'USD', '--group', '')).toEqual([
      'day',
      'week',
      'month',
    ]);
    expect(await bashComplete('ratewire', 'jobs', 'list', '--status', 'f')).toEqual(['failed']);
    expect(await bashComplete('ratewire', 'completion', '')).toEqual(['bash', 'zsh']);
  });

  it('offers nothing of its own for a value with no choices (bash falls back to file names)', async () => {
    expect(await bashComplete('ratewire', 'jobs', 'submit', '--file', '')).toEqual([]);
    const script = await exec('bash', ['--norc', '-c', `source "$1"; complete -p ratewire`, 'bash', bashFile]);
    expect(script.stdout.trim()).toBe('complete -o default -F _ratewire ratewire');
  });

  it('says how to install it in --help', async () => {
    const help = await cliRunner().run(['completion', '--help']);
    expect(help.stdout).toContain('source <(ratewire completion bash)');
    expect(help.stdout).toContain('ratewire completion zsh > "${fpath[1]}/_ratewire"');
  });
});

describe('ratewire completion zsh, in zsh at a terminal', () => {
  let term: Terminal;
  beforeAll(async () => {
    term = await Terminal.start({
      env: { HOME: dir, TERM: 'xterm-256color', LANG: 'C.UTF-8', PATH: '/usr/bin:/bin' },
      cwd: dir,
    });
    await term.line(`exec zsh -f`);
    await term.line(`PROMPT='zsh> '; autoload -U compinit && compinit -u -D && source '${zshFile}' && echo loaded`);
    await term.waitFor(/^loaded$/m);
  });
  afterAll(async () => {
    await term?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes a command, a subcommand and an option with Tab', async () => {
    await term.type('ratewire ra');
    await term.keys('Tab');
    await term.waitFor(/^zsh> ratewire rates $/m);
    await term.type('b');
    await term.keys('Tab');
    await term.waitFor(/^zsh> ratewire rates binance $/m);
    await term.keys('C-u');
    await term.type('ratewire jobs submit --cu');
    await term.keys('Tab');
    await term.waitFor(/^zsh> ratewire jobs submit --currency $/m);
    await term.keys('C-u');
  });

  it('lists an option’s choices', async () => {
    await term.type('ratewire rates cbr series USD --group ');
    await term.keys('Tab');
    const screen = await term.waitFor(/^day\s+month\s+week\s*$/m);
    expect(screen).toMatch(/^zsh> ratewire rates cbr series USD --group $/m);
    await term.keys('C-u');
  });
});

describe('Tab in ratewire shell', () => {
  const shell = new Shell(new Ctx(testIo(), {}));

  it('completes command names, the shell’s own words, subcommands and options', () => {
    expect(shell.complete('ra')).toEqual([['rates '], 'ra']);
    expect(shell.complete('rates b')).toEqual([['binance '], 'b']);
    expect(shell.complete('cl')).toEqual([['cls '], 'cl']);
    expect(shell.complete('ex')[0]).toEqual(['exchange', 'exit']);
    expect(shell.complete('rates cbr series USD --gr')).toEqual([['--group '], '--gr']);
    expect(shell.complete('rates cbr series USD --group w')).toEqual([['week '], 'w']);
  });

  it('completes task as jobs submit, with its options', () => {
    expect(shell.complete('task --cu')).toEqual([['--currency '], '--cu']);
    expect(shell.complete('task --bill 10x5 --r')[0]).toEqual(['--rate', '--request-id']);
  });

  it('offers nothing inside an open quote', () => {
    expect(shell.complete("rates 'bi")).toEqual([[], 'bi']);
  });
});

function testIo() {
  const home = mkdtempSync(join(tmpdir(), 'rw-shell-'));
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: { HOME: home, NO_COLOR: '1' },
    signal: new AbortController().signal,
  };
}
