// Reads: CBR rates (latest, a day, a series), Binance prices and history, conversion, fluctuation.
import { Option, type Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

const actions = () => import('./rates.actions.ts');
const binanceActions = () => import('./binance.actions.ts');
const csv = () => new Option('--csv', 'print CSV (as the service renders it)');

export function registerRates(program: Command, rt: Runtime): void {
  const rates = program.command('rates').description('CBR and Binance rates');

  const cbr = rates
    .command('cbr')
    .description('CBR rates in force: the latest, or on a day (weekends resolve to the last publication)')
    .argument('[when]', '"latest" or a day, YYYY-MM-DD', 'latest')
    .option('-s, --symbols <codes>', 'comma-separated currency codes (all when absent)')
    .option('-b, --base <code>', 'express values in this currency instead of RUB');
  examples(
    lazyAction(rt, cbr, async () => (await actions()).cbrRates),
    [
      'ratewire rates cbr',
      'ratewire rates cbr 2024-01-05 --symbols USD,EUR',
      'ratewire rates cbr latest --base USD --json',
      'ratewire rates cbr series USD --from 2024-01-01 --to 2024-12-31 --group month',
    ],
  );
  examples(
    lazyAction(
      rt,
      cbr
        .command('series')
        .description('one currency’s CBR rates over time, by day, ISO week or month')
        .argument('<symbol>', 'currency code, e.g. USD')
        .option('--from <date>', 'first day (default: 30 days before --to)')
        .option('--to <date>', 'last day (default: today)')
        .addOption(new Option('-g, --group <period>', 'day, week or month').choices(['day', 'week', 'month']))
        .option('-b, --base <code>', 'express values in this currency instead of RUB')
        .addOption(csv()),
      async () => (await actions()).cbrSeries,
    ),
    ['ratewire rates cbr series USD', 'ratewire rates cbr series EUR --from 2024-01-01 --group week --csv > eur.csv'],
  );

  const binance = rates
    .command('binance')
    .description('latest Binance spot prices: named symbols, or every trading one')
    .argument('[symbols...]', 'symbols, e.g. BTCUSDT ETHUSDT')
    .option('--all', 'include symbols that do not trade now (with their status)');
  examples(
    lazyAction(rt, binance, async () => (await binanceActions()).binancePrices),
    [
      'ratewire rates binance BTCUSDT',
      'ratewire rates binance BTCUSDT ETHUSDT --json',
      'ratewire rates binance | grep USDT',
      'ratewire rates binance history BTCUSDT --interval 1h',
    ],
  );
  examples(
    lazyAction(
      rt,
      binance
        .command('history')
        .description('a symbol’s stored price history as OHLC buckets')
        .argument('<symbol>')
        .option('--from <time>', 'start, a day or an ISO time (default: 24 h before --to)')
        .option('--to <time>', 'end, excluded (default: now)')
        .addOption(new Option('-i, --interval <width>', 'bucket width').choices(['1m', '5m', '15m', '1h', '1d']))
        .addOption(csv()),
      async () => (await binanceActions()).binanceHistory,
    ),
    [
      'ratewire rates binance history BTCUSDT',
      'ratewire rates binance history ETHUSDT --interval 1d --from 2026-11-01',
    ],
  );

  examples(
    lazyAction(
      rt,
      program
        .command('convert')
        .description('convert an amount between currencies at CBR rates (through RUB)')
        .argument('<amount>', 'a decimal amount, e.g. 100 or 12.50')
        .argument('<from>', 'currency code')
        .argument('<to>', 'currency code')
        .option('-d, --date <date>', 'use the rates in force that day (default: latest)'),
      async () => (await actions()).convert,
    ),
    ['ratewire convert 100 USD EUR', 'ratewire convert 250.75 EUR RUB --date 2024-03-01 --json'],
  );

  examples(
    lazyAction(
      rt,
      program
        .command('fluctuation')
        .description('how CBR rates moved between two days: start, end, change, min, max')
        .argument('[symbols...]', 'currency codes (all when absent)')
        .option('--from <date>', 'first day (default: 30 days before --to)')
        .option('--to <date>', 'last day (default: today)')
        .option('-b, --base <code>', 'express values in this currency instead of RUB'),
      async () => (await actions()).fluctuation,
    ),
    ['ratewire fluctuation USD EUR', 'ratewire fluctuation --from 2024-01-01 --to 2024-12-31 --json'],
  );
}
