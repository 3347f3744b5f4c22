// The command tree as plain data, read from commander once: what Tab completes in `ratewire shell`
// and what the bash and zsh completion scripts are generated from.
import type { Command } from 'commander';

export interface OptionSpec {
  /** Every spelling: `-s`, `--symbols`. */
  flags: string[];
  /** The option is followed by a value (`--symbols <codes>`). */
  takesValue: boolean;
  /** The values it accepts, when commander knows them. */
  choices: readonly string[];
  description: string;
}

export interface CommandSpec {
  name: string;
  aliases: string[];
  description: string;
  /** The command's own options, --help included. */
  options: OptionSpec[];
  commands: CommandSpec[];
  /** Values its positional arguments accept, when commander knows them (`completion bash|zsh`). */
  argChoices: string[];
}

export interface CompletionTree {
  root: CommandSpec;
  /** The root's options that commander accepts after any subcommand too (--json, --url …), not --version. */
  globals: OptionSpec[];
}

function optionsOf(cmd: Command): OptionSpec[] {
  return cmd
    .createHelp()
    .visibleOptions(cmd)
    .map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => typeof f === 'string'),
      takesValue: o.required || o.optional,
      choices: o.argChoices ?? [],
      description: o.description,
    }));
}

function specOf(cmd: Command): CommandSpec {
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    description: cmd.description(),
    options: optionsOf(cmd),
    commands: cmd
      .createHelp()
      .visibleCommands(cmd)
      .map((c) => specOf(c)),
    argChoices: cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
  };
}

export function completionTree(program: Command): CompletionTree {
  const root = specOf(program);
  const globals = root.options.filter((o) => !o.flags.includes('--version') && !o.flags.includes('--help'));
  return { root, globals };
}

/** The subcommand a word names (by name or alias). */
export function childNamed(cmd: CommandSpec, word: string): CommandSpec | undefined {
  return cmd.commands.find((c) => c.name === word || c.aliases.includes(word));
}

/** The options a word may be at this command: its own, then the global ones. */
export function optionsAt(tree: CompletionTree, cmd: CommandSpec): OptionSpec[] {
  if (cmd === tree.root) return cmd.options;
  const own = new Set(cmd.options.flatMap((o) => o.flags));
  return [...cmd.options, ...tree.globals.filter((g) => !g.flags.some((f) => own.has(f)))];
}

export interface Walked {
  command: CommandSpec;
  /** The option the word being completed is the value of, if any. */
  valueOf: OptionSpec | undefined;
}

/**
 * Follows the finished words of a command line (after `ratewire`) down the tree: subcommand names
 * descend, options are skipped with their values, other words are arguments.
 */
export function walk(tree: CompletionTree, words: readonly string[], start = tree.root): Walked {
  let command = start;
  let pending: OptionSpec | undefined;
  for (const word of words) {
    if (pending) {
      pending = undefined;
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      if (word.includes('=')) continue;
      const opt = optionsAt(tree, command).find((o) => o.flags.includes(word));
      if (opt?.takesValue) pending = opt;
      continue;
    }
    const child = childNamed(command, word);
    if (child) command = child;
  }
  return { command, valueOf: pending };
}

/** The words that may come next at a point of the line: choices of an option's value, or subcommands and options. */
export function candidates(tree: CompletionTree, at: Walked, current: string): string[] {
  if (at.valueOf) return at.valueOf.choices.filter((c) => c.startsWith(current));
  const names = [...at.command.commands.flatMap((c) => [c.name, ...c.aliases]), ...at.command.argChoices];
  const flags = optionsAt(tree, at.command).flatMap((o) => o.flags);
  // options only once a dash is typed, as most shells do, so a bare Tab lists the subcommands
  const pool = current.startsWith('-') ? flags : names.length > 0 ? names : flags;
  return [...new Set(pool)].filter((w) => w.startsWith(current));
}
