// `ratewire watch CHANNEL…`: the service's live frames, as they come, across reconnects.
import type { Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

export function registerWatch(program: Command, rt: Runtime): void {
  const watch = program
    .command('watch')
    .summary('print the live frames of WebSocket channels, resuming across reconnects')
    .description(
      'print the frames of WebSocket channels as they come; reconnects on its own and resumes where it was, ' +
        'so no frame is lost or repeated across a reconnect',
    )
    .argument(
      '<channels...>',
      'currencies, rates.cbr, rates.binance, rates.binance:<SYMBOL>, tasks, tasks:<task_id>, jobs:<job_id>, alerts:<user_id>',
    )
    .option('--since <id>', 'first replay what came after this frame id (on each channel)')
    .option('-n, --count <n>', 'exit after this many frames')
    .addHelpText(
      'after',
      `
Each frame is a line on stdout: time (UTC), channel, event and a one-line summary; with --json, the
frame as the service sent it (NDJSON: type, channel, id, event, data, ts). Connection changes, and
frames lost because the channel's history no longer reaches back (reset), are told on stderr.
jobs:<job_id> and alerts:<user_id> need a login (or RATEWIRE_TOKEN).`,
    );
  examples(
    lazyAction(rt, watch, async () => (await import('./watch.actions.ts')).watch),
    [
      'ratewire watch rates.binance:BTCUSDT',
      'ratewire watch currencies rates.cbr',
      'ratewire watch rates.binance --json | jq -c .data.changed[0]',
      'ratewire watch jobs:1f6b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d --count 1',
      'ratewire watch tasks --since 1764581400000-0',
    ],
  );
}
