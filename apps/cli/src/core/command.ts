// How a command is declared: commander describes it (cheap, loaded for every run); its action is
// imported only when it runs, so `ratewire --help` or `rates binance` loads nothing else.
import type { Command } from 'commander';

import { Ctx, type Globals } from './context.ts';
import type { Io } from './io.ts';

export interface Runtime {
  io: Io;
  /** The exit code the action that ran asked for. */
  exit: number;
}

/** An action: the positional arguments (variadic ones as arrays), then the command's own options. */
export type Action = (
  ctx: Ctx,
  args: unknown[],
  options: Record<string, unknown>,
) => Promise<number | void> | number | void;

/** Sets `cmd`'s action to the function `load` imports. */
export function lazyAction(rt: Runtime, cmd: Command, load: () => Promise<Action>): Command {
  return cmd.action(async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const options = params.at(-2) as Record<string, unknown>;
    const args = params.slice(0, -2);
    const ctx = new Ctx(rt.io, command.optsWithGlobals<Globals>());
    const fn = await load();
    const code = await fn(ctx, args, options);
    rt.exit = code ?? 0;
  });
}

/** Appends an Examples section to the command's --help. */
export function examples(cmd: Command, lines: readonly string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}
