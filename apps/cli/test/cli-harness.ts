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

/** A command still running: what it has printed so far, and its end. */
export interface CliProcess {
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) so far satisfies `test`; rejects if the command ends first or after `timeoutMs`. */
  waitFor(
    test: (text: string) => boolean,
    options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number },
  ): Promise<string>;
  /** Ctrl-C: aborts the command's signal. */
  interrupt(): void;
  done: Promise<CliResult>;
}

export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface CliRunner {
  /** The environment every run gets (HOME and XDG_CONFIG_HOME in a fresh temporary folder). */
  env: Record<string, string>;
  configDir: string;
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Starts a long-running command (watch, tail, listen) and hands it back while it runs. */
  start(args: string[], options?: Omit<RunOptions, 'signal'>): CliProcess;
}

export function cliRunner(env: Record<string, string> = {}): CliRunner {
  const home = mkdtempSync(join(tmpdir(), 'rw-cli-'));
  const base: Record<string, string> = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1', ...env };
  const start = (args: string[], options: RunOptions): CliProcess => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    const text = { stdout: '', stderr: '' };
    const waiters = new Set<() => void>();
    const changed = () => {
      for (const w of waiters) w();
    };
    stdout.on('data', (c: Buffer) => {
      text.stdout += c.toString('utf8');
      changed();
    });
    stderr.on('data', (c: Buffer) => {
      text.stderr += c.toString('utf8');
      changed();
    });
    stdin.end(options.stdin ?? '');
    const controller = new AbortController();
    if (options.signal) options.signal.addEventListener('abort', () => controller.abort(), { once: true });
    let ended = false;
    const done = run(args, {
      stdout,
      stderr,
      stdin,
      env: { ...base, ...options.env },
      signal: controller.signal,
    }).then((code) => {
      ended = true;
      changed();
      return { code, stdout: text.stdout, stderr: text.stderr };
    });
    return {
      stdout: () => text.stdout,
      stderr: () => text.stderr,
      interrupt: () => controller.abort(),
      done,
      waitFor(test, { stream = 'stdout', timeoutMs = 20_000 } = {}) {
        return new Promise<string>((resolve, reject) => {
          const check = () => {
            if (test(text[stream])) finish(() => resolve(text[stream]));
            else if (ended) finish(() => reject(new Error(`the command ended first:\n${text.stdout}\n${text.stderr}`)));
          };
          const timer = setTimeout(
            () => finish(() => reject(new Error(`not seen in ${timeoutMs} ms:\n${text.stdout}\n${text.stderr}`))),
            timeoutMs,
          );
          const finish = (settle: () => void) => {
            clearTimeout(timer);
            waiters.delete(check);
            settle();
          };
          waiters.add(check);
          check();
        });
      },
    };
  };
  return {
    env: base,
    configDir: join(home, 'config', 'ratewire'),
    run(args, options = {}) {
      return start(args, options).done;
    },
    start(args, options = {}) {
      return start(args, options);
    },
  };
}
