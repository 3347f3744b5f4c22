// What a command reads and writes, passed in so tests run commands in-process on streams of their own.
import type { Readable, Writable } from 'node:stream';

export interface OutStream extends Writable {
  isTTY?: boolean;
  columns?: number;
}

export interface InStream extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  /** The environment the command sees (RATEWIRE_*, XDG_CONFIG_HOME, NO_COLOR, NATS_URL, HOME). */
  env: Readonly<Record<string, string | undefined>>;
  /** Fires when the user interrupts (Ctrl-C); long-running commands stop on it. */
  signal: AbortSignal;
  /**
   * Set by `ratewire shell`: a command that submits a job calls it with the job's id, so the shell
   * keeps showing that job's notifications after the command ends.
   */
  onJob?: (jobId: string) => void;
}

export function processIo(signal: AbortSignal): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal };
}

/** Colour and cursor codes only on a terminal, never with NO_COLOR, --no-color or TERM=dumb. */
export function colourEnabled(io: Io, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  if (io.env['TERM'] === 'dumb') return false;
  if (io.env['FORCE_COLOR'] !== undefined && io.env['FORCE_COLOR'] !== '0') return true;
  return io.stdout.isTTY === true;
}
