import { buildProgram } from '../program.ts';
import type { Action } from '../core/command.ts';
import { usageError } from '../core/exit-codes.ts';
import { completionTree } from './command-tree.ts';
import { bashScript, zshScript } from './scripts.ts';

export const completion: Action = (ctx, [shell]) => {
  // the tree as this build has it (the program is cheap to build: actions load on use)
  const tree = completionTree(buildProgram({ io: ctx.io, exit: 0 }));
  if (shell === 'bash') ctx.io.stdout.write(bashScript(tree));
  else if (shell === 'zsh') ctx.io.stdout.write(zshScript(tree));
  else throw usageError(`no completion for ${JSON.stringify(shell)}`, 'bash or zsh');
};
