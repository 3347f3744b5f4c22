// Exchange jobs (submit, follow, read) and the synchronous calculation with the same bill flags.
import { Option, type Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

const actions = () => import('./jobs.actions.ts');
const collect = (value: string, previous: string[] = []) => [...previous, value];

const BILLS_HELP = `
Bills:
  --bill DENOMINATIONxCOUNT      e.g. --bill 10x5: five bills of 10 (denomination_id 1, 2, … in order)
  --bill ID:DENOMINATIONxCOUNT   e.g. --bill 7:10x5: the same with denomination_id 7
  --file bills.json              a JSON array of {denomination_id, denomination, count}, or a whole body
                                 ({bills, exchange_rate | currency, request_id?, callback_url?}; flags win)
  --file bills.csv               CSV with a header: denomination_id,denomination,count (or denomination,count)
  --file -                       the same from stdin (JSON or CSV, told apart by the first character)
Each subtotal is denomination × count × rate, exact, rounded half-up to 2 places.`;

function billOptions(cmd: Command): Command {
  return cmd
    .option('-b, --bill <bill>', 'a bill, DENOMINATIONxCOUNT or ID:DENOMINATIONxCOUNT (repeatable)', collect)
    .option('-f, --file <path>', 'bills from a JSON or CSV file, or - for stdin')
    .option('-r, --rate <decimal>', 'rubles per unit, e.g. 75.5')
    .option('-c, --currency <code>', 'use the latest CBR rate of this currency, e.g. USD')
    .addHelpText('after', BILLS_HELP);
}

export function registerJobs(program: Command, rt: Runtime): void {
  const jobs = program.command('jobs').description('exchange jobs: bills × rate in rubles, computed by the service');

  examples(
    lazyAction(
      rt,
      billOptions(
        jobs
          .command('submit')
          .description(
            'submit an exchange job and follow it to its end: a live bar on a terminal, status lines elsewhere; ' +
              'then the breakdown',
          ),
      )
        .option(
          '--request-id <id>',
          'your id for the request: the same id and body give the same job (default: a new UUID, printed)',
        )
        .option('--callback-url <url>', 'where the service PUTs the result (signed)')
        .option('--no-follow', 'print the job id and exit at once')
        .option('-w, --wait', 'exit 5 when the job fails (without it a failed job is reported and exits 0)')
        .addHelpText(
          'after',
          '\nFollowing: the job is followed on its WebSocket channel until done or failed. Ctrl-C stops following\n' +
            '(exit 130); the job keeps running and `ratewire jobs watch ID` follows it again.',
        ),
      async () => (await actions()).submit,
    ),
    [
      'ratewire jobs submit --bill 10x5 --bill 20x3 --rate 75.5',
      'ratewire jobs submit --bill 1:100x2 --bill 2:50x1 --currency USD --wait',
      'ratewire jobs submit --file bills.csv --rate 92.1 --request-id order-42',
      'cat bills.json | ratewire jobs submit --file - --currency EUR --json',
      'ratewire jobs submit --bill 10x5 --rate 75.5 --no-follow',
    ],
  );

  examples(
    lazyAction(
      rt,
      jobs
        .command('watch')
        .description('follow an existing job to its end, with the same bar, then print its breakdown')
        .argument('<id>', 'the job id')
        .option('--exit-status', 'exit 5 when the job failed'),
      async () => (await actions()).watch,
    ),
    ['ratewire jobs watch 0b7c…', 'ratewire jobs watch 0b7c… --exit-status && echo ok'],
  );

  examples(
    lazyAction(
      rt,
      jobs
        .command('get')
        .description('one job: status, rate, breakdown, total and the callback’s state')
        .argument('<id>', 'the job id'),
      async () => (await actions()).get,
    ),
    ['ratewire jobs get 0b7c…', 'ratewire jobs get 0b7c… --json'],
  );

  examples(
    lazyAction(
      rt,
      jobs
        .command('list')
        .description('your jobs, newest first, a page at a time')
        .option('-n, --limit <n>', 'jobs per page (1-1000, default 100)')
        .option('--offset <n>', 'skip this many (default 0)')
        .addOption(
          new Option('--status <status>', 'show only the page’s jobs in this state').choices([
            'queued',
            'running',
            'done',
            'failed',
          ]),
        )
        .option('--csv', 'print the page as CSV (as the service renders it)'),
      async () => (await actions()).list,
    ),
    ['ratewire jobs list', 'ratewire jobs list --status failed --limit 1000', 'ratewire jobs list --csv > jobs.csv'],
  );

  const exchange = program.command('exchange').description('exchange calculations');
  examples(
    lazyAction(
      rt,
      billOptions(exchange.command('calculate').description('the breakdown of bills × rate at once (no job)')),
      async () => (await actions()).calculate,
    ),
    [
      'ratewire exchange calculate --bill 10x5 --bill 20x3 --rate 75.5',
      'ratewire exchange calculate --file bills.csv --currency USD --json',
    ],
  );
}
