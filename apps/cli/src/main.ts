// Entry point: runs one command line against the given streams and answers its exit code. The bin
// script calls main(); tests call run() in-process.
import { CommanderError } from 'commander';
import { config as zodConfig } from 'zod';

import type { Runtime } from './core/command.ts';
import { CliError, EXIT } from './core/exit-codes.ts';
import { processIo, type Io } from './core/io.ts';
import { printable } from './output/table.ts';
import { buildProgram } from './program.ts';

// A run parses a handful of answers: zod's compiled fast path (built with `new Function` on an object
// schema's first parse) costs more to build than it saves here.
zodConfig({ jitless: true });

/** Commander's own ways of ending that are not errors. */
const CLEAN_EXITS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const rt: Runtime = { io, exit: EXIT.ok };
  const program = buildProgram(rt);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return rt.exit;
  } catch (err) {
    return report(err, io);
  }
}

export function report(err: unknown, io: Io): number {
  if (err instanceof CommanderError) return CLEAN_EXITS.has(err.code) ? EXIT.ok : EXIT.usage;
  if (err instanceof CliError) {
    io.stderr.write(`error: ${printable(err.message)}\n`);
    if (err.hint) io.stderr.write(`  ${err.hint}\n`);
    return err.exitCode;
  }
  if (io.signal.aborted) return EXIT.interrupted;
  io.stderr.write(`error: ${printable(err instanceof Error ? err.message : String(err))}\n`);
  if (io.env['RATEWIRE_DEBUG'] && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return EXIT.error;
}

/** The process's own run: Ctrl-C once asks the command to stop (exit 130); twice stops at once. */
export async function main(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort();
  });
  // `ratewire … | head` closes our stdout early: that is the reader's choice, not an error
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const code = await run(argv, processIo(controller.signal));
  process.exitCode = controller.signal.aborted && code === EXIT.ok ? EXIT.interrupted : code;
}
