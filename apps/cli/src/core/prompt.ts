// Questions at a terminal (node:readline): plain, or hidden for passwords. Off a terminal, or with
// --no-input, nothing is asked: the command says which flag gives the value instead.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

import type { Ctx } from './context.ts';
import { CliError, EXIT, usageError } from './exit-codes.ts';

function ask(ctx: Ctx, question: string, hidden: boolean, flagHint: string): Promise<string> {
  if (!ctx.interactive) throw usageError(`${question.replace(/[:?]\s*$/, '')} is needed`, flagHint);
  const { io } = ctx;
  // a hidden answer is echoed nowhere: readline writes the line it edits to a sink
  const output = hidden
    ? new Writable({
        write(_chunk, _enc, done) {
          done();
        },
      })
    : io.stderr;
  if (hidden) io.stderr.write(question);
  const rl = createInterface({ input: io.stdin, output, terminal: true, historySize: 0 });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    const stop = () => {
      // first: closing answers 'close', which would call it the end of input
      reject(new CliError('interrupted', EXIT.interrupted));
      io.stderr.write('\n');
      rl.close();
    };
    rl.on('SIGINT', stop);
    io.signal.addEventListener('abort', stop, { once: true });
    rl.once('close', () => {
      io.signal.removeEventListener('abort', stop);
      if (!answered) reject(new CliError('no answer (end of input)', EXIT.error));
    });
    rl.question(hidden ? '' : question, (answer) => {
      answered = true;
      if (hidden) io.stderr.write('\n');
      rl.close();
      resolve(answer);
    });
  });
}

export const askText = (ctx: Ctx, question: string, flagHint: string) => ask(ctx, question, false, flagHint);
export const askSecret = (ctx: Ctx, question: string, flagHint: string) => ask(ctx, question, true, flagHint);

/** All of stdin as text (for --password-stdin, --with-token, and files given as `-`). */
export async function readStdin(ctx: Ctx): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** The first line of stdin, for a secret piped in (`echo "$PASS" | ratewire login --password-stdin`). */
export async function readSecretLine(ctx: Ctx): Promise<string> {
  const line = (await readStdin(ctx)).split(/\r?\n/)[0] ?? '';
  if (!line) throw usageError('nothing on standard input');
  return line;
}
