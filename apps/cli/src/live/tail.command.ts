// `ratewire tail SUBJECT…`: the platform's NATS traffic, for operators, summarised by the event catalogue.
import type { Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

export function registerTail(program: Command, rt: Runtime): void {
  const tail = program
    .command('tail')
    .description('follow NATS subjects (operators): each message as time, subject and a one-line summary')
    .argument('[subjects...]', 'subjects, `*` for one token and `>` for the rest (default: >, everything)')
    .option(
      '-s, --server <url>',
      'the NATS server (default: NATS_URL, or nats://127.0.0.1:54222, the one npm start runs)',
    )
    .option('--raw', 'print each payload as it came, one per line')
    .option('-n, --count <n>', 'exit after this many messages')
    .addHelpText(
      'after',
      `
Times are when the message arrived (UTC). With --json, one NDJSON line per message: {time, subject,
data} (data as published, numbers digit for digit), or {time, subject, text} for a payload that is
not JSON.`,
    );
  examples(
    lazyAction(rt, tail, async () => (await import('./tail.actions.ts')).tail),
    [
      'ratewire tail',
      "ratewire tail 'rates.>' 'jobs.exchange.*'",
      'ratewire tail currencies.updates --raw',
      'ratewire tail alerts.triggered --json | jq .data.symbol',
      'NATS_URL=nats://nats:4222 ratewire tail tasks.rates-refresh.*',
    ],
  );
}
