// `ratewire shell` (the interactive prompt) and `ratewire completion bash|zsh`.
import { Argument, type Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

export function registerShell(program: Command, rt: Runtime): void {
  examples(
    lazyAction(
      rt,
      program
        .command('shell')
        .description(
          'an interactive prompt: every command without the `ratewire`, plus task, cls, exit; your alerts and ' +
            'the jobs submitted here are notified above the prompt',
        )
        .addHelpText(
          'after',
          `
In the shell:
  login, register, registr    as the commands of the same names (the password is never echoed)
  task …                      submit an exchange job: the same as \`jobs submit …\`
  cls                         clear the screen (also Ctrl-L)
  help [command]              what the shell takes, or a command's help
  exit [code], quit           leave (also Ctrl-D on an empty line)
Keys: Tab completes commands and options; Up/Down walk the history (kept in
$XDG_STATE_HOME/ratewire/history, default ~/.local/state); Ctrl-C cancels the line, or stops the
running command (the shell stays). With standard input not a terminal, the shell reads one command
a line, prints no prompt and no escape codes, and exits with the last command's code.`,
        ),
      async () => (await import('./shell.actions.ts')).shell,
    ),
    ['ratewire shell', "printf 'rates binance BTCUSDT\\nconvert 100 USD EUR\\n' | ratewire shell"],
  );
  examples(
    lazyAction(
      rt,
      program
        .command('completion')
        .description('print a bash or zsh completion script for ratewire')
        .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh'])),
      async () => (await import('../completion/completion.actions.ts')).completion,
    ),
    [
      'source <(ratewire completion bash)          # bash, this shell',
      'ratewire completion bash > ~/.local/share/bash-completion/completions/ratewire',
      'ratewire completion zsh > "${fpath[1]}/_ratewire"   # zsh, then open a new shell',
    ],
  );
}
