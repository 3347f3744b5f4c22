// Rate alerts: create, read, pause and resume, test, firings, and a live feed of the user's firings.
import { Option, type Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

const actions = () => import('./alerts.actions.ts');
const csv = () => new Option('--csv', 'print CSV (as the service renders it)');

export function registerAlerts(program: Command, rt: Runtime): void {
  const alerts = program.command('alerts').description('rate alerts: a condition on a Binance price or a CBR rate');

  examples(
    lazyAction(
      rt,
      alerts
        .command('add')
        .description(
          'create an alert; give exactly one condition (--above, --below, --crosses-above, --crosses-below, --pct-change)',
        )
        .addOption(
          new Option('-s, --source <source>', 'binance (a spot price) or cbr (a unit rate in rubles)')
            .choices(['binance', 'cbr'])
            .makeOptionMandatory(),
        )
        .requiredOption('--symbol <symbol>', 'a Binance symbol (BTCUSDT) or a currency code (USD)')
        .option('--above <level>', 'fires while the rate is above the level')
        .option('--below <level>', 'fires while the rate is below the level')
        .option('--crosses-above <level>', 'fires when the rate crosses the level upwards')
        .option('--crosses-below <level>', 'fires when the rate crosses the level downwards')
        .option('--pct-change <percent>', 'fires when the rate moved at least this much within --window')
        .addOption(new Option('--window <window>', 'with --pct-change: 1h or 24h (CBR: 24h)').choices(['1h', '24h']))
        .addOption(
          new Option('--direction <direction>', 'with --pct-change (default both)').choices(['up', 'down', 'both']),
        )
        .addOption(
          new Option('--frequency <frequency>', 'once (default), every_time or once_per_day').choices([
            'once',
            'every_time',
            'once_per_day',
          ]),
        )
        .option('--cooldown <seconds>', 'every_time: at least this long between firings')
        .option('--rearm-pct <percent>', 'every_time: re-armed once the rate is back by this percentage')
        .option('--expires <time>', 'ISO 8601 time the alert expires at, e.g. 2027-01-01T00:00:00Z')
        .option('--channel <channels>', 'comma-separated: ws, email, callback (default ws)')
        .option('--callback-url <url>', 'where firings are POSTed (with --channel callback)'),
      async () => (await actions()).add,
    ),
    [
      'ratewire alerts add --source binance --symbol BTCUSDT --above 100000',
      'ratewire alerts add --source binance --symbol ETHUSDT --crosses-below 2500 --frequency every_time --rearm-pct 1',
      'ratewire alerts add --source binance --symbol BTCUSDT --pct-change 5 --window 1h --direction down',
      'ratewire alerts add --source cbr --symbol USD --above 100 --channel ws,email',
      'ratewire alerts add --source cbr --symbol EUR --pct-change 2 --window 24h --channel callback --callback-url https://example.com/hook',
    ],
  );

  examples(
    lazyAction(
      rt,
      alerts
        .command('list')
        .description('your alerts, newest first')
        .addOption(
          new Option('--status <status>', 'only alerts in this state').choices([
            'active',
            'triggered',
            'paused',
            'expired',
          ]),
        )
        .option('-n, --limit <n>', 'alerts per page (1-1000, default 100)')
        .option('--offset <n>', 'skip this many (default 0)')
        .addOption(csv()),
      async () => (await actions()).list,
    ),
    [
      'ratewire alerts list',
      'ratewire alerts list --status triggered --json',
      'ratewire alerts list --csv > alerts.csv',
    ],
  );

  const one = (
    name: string,
    description: string,
    action: 'get' | 'rm' | 'pause' | 'resume' | 'test',
    lines: string[],
  ) =>
    examples(
      lazyAction(
        rt,
        alerts.command(name).description(description).argument('<id>', 'the alert id'),
        async () => (await actions())[action],
      ),
      lines,
    );
  one('get', 'one alert: its condition, frequency, channels, state and firings count', 'get', [
    'ratewire alerts get 5d1e…',
    'ratewire alerts get 5d1e… --json',
  ]);
  one('rm', 'delete an alert (and its firings)', 'rm', ['ratewire alerts rm 5d1e…']);
  one('pause', 'stop evaluating an alert (it is kept)', 'pause', ['ratewire alerts pause 5d1e…']);
  one('resume', 'evaluate a paused (or triggered) alert again', 'resume', ['ratewire alerts resume 5d1e…']);
  one('test', 'fire a test firing to the alert’s channels now (marked test)', 'test', [
    'ratewire alerts test 5d1e… && ratewire alerts events 5d1e…',
  ]);

  examples(
    lazyAction(
      rt,
      alerts
        .command('events')
        .description('an alert’s firings, newest first: when, the value observed, the previous one, the change')
        .argument('<id>', 'the alert id')
        .option('-n, --limit <n>', 'firings per page (1-1000, default 100)')
        .option('--offset <n>', 'skip this many (default 0)')
        .addOption(csv()),
      async () => (await actions()).events,
    ),
    ['ratewire alerts events 5d1e…', 'ratewire alerts events 5d1e… --json'],
  );

  examples(
    lazyAction(
      rt,
      alerts
        .command('watch')
        .description('print your alerts’ firings as they come (channel alerts:<your user id>), one line each')
        .option('--max <n>', 'stop after this many firings')
        .option('--exit-status', 'stop at the first firing that is not a test, with exit 5'),
      async () => (await actions()).watch,
    ),
    [
      'ratewire alerts watch',
      'ratewire alerts watch --json | jq .observed.value',
      'ratewire alerts watch --exit-status || notify-send "alert fired"',
    ],
  );
}
