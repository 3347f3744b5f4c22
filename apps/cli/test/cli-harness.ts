// Runs `ratewire` commands in-process against a stack, each with its own streams and a config
// directory of its own, and collects what they print.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { run } from '../src/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunner {
  /** The environment every run gets (HOME and XDG_CONFIG_HOME in a fresh temporary folder). */
  env: Record<string, string>;
  configDir: string;
  run(
    args: string[],
    options?: { stdin?: string; env?: Record<string, string>; signal?: AbortSignal },
  ): Promise<CliResult>;
}

export function cliRunner(env: Record<string, string> = {}): CliRunner {
  const home = mkdtempSync(join(tmpdir(), 'rw-cli-'));
  const base = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1', ...env };
  return {
    env: base,
    configDir: join(home, 'config', 'ratewire'),
    async run(args, options = {}) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const stdin = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      stdin.end(options.stdin ?? '');
      const code = await run(args, {
        stdout,
        stderr,
        stdin,
        env: { ...base, ...options.env },
        signal: options.signal ?? new AbortController().signal,
      });
      return { code, stdout: out, stderr: err };
    },
  };
}
