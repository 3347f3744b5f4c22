// `ratewire callbacks listen`: a local receiver for the signed callbacks of jobs and alerts, as
// `stripe listen --forward-to` is for Stripe's events.
import type { Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

export const DEFAULT_LISTEN_PORT = 8787;

export function registerCallbacks(program: Command, rt: Runtime): void {
  const callbacks = program.command('callbacks').description('callbacks the service sends for jobs and alerts');
  const listen = callbacks
    .command('listen')
    .description(
      'receive callbacks on this machine: check each Standard Webhooks signature with your webhook secret, ' +
        'print the event, and forward the verified ones',
    )
    .option('-f, --forward-to <url>', 'send each verified callback on to this URL (same method, headers, body)')
    .option('--port <port>', `the port to listen on (default ${DEFAULT_LISTEN_PORT}; 0 picks a free one)`)
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('--secret <whsec>', 'the webhook secret to verify with (default: your account’s, read from the service)')
    .option('-n, --count <n>', 'exit after this many callbacks')
    .addHelpText(
      'after',
      `
Give the URL it prints as a job's or an alert's callback_url. Each callback is a line on stdout:
time (UTC), verified or REJECTED, its type, a one-line summary, and the forward's status. The sender
gets the forward's status (200 without --forward-to, 502 when the forward got no answer); a callback
whose signature does not verify, or whose timestamp is more than 5 minutes off, gets 400 and is not
forwarded; a body over 1 MiB gets 413. With --json, one NDJSON line per callback.`,
    );
  examples(
    lazyAction(rt, listen, async () => (await import('./callbacks.actions.ts')).listen),
    [
      'ratewire callbacks listen --forward-to http://localhost:3000/hooks/ratewire',
      'ratewire callbacks listen --port 9000',
      'ratewire callbacks listen --secret "$WHSEC" --forward-to http://localhost:3000/hooks --json',
      'ratewire jobs submit --bill 50x2 --rate 75.5 --callback-url http://127.0.0.1:8787/',
    ],
  );
}
