// The command tree. Each feature adds its commands here; their actions load on use.
import { Command, Option } from 'commander';

import { registerAlerts } from './alerts/alerts.command.ts';
import { registerAuth } from './auth/auth.command.ts';
import { type Runtime } from './core/command.ts';
import { EXIT_CODES_HELP } from './core/exit-codes.ts';
import { registerJobs } from './jobs/jobs.command.ts';
import { registerLive } from './live/live.command.ts';
import { VERSION } from './core/version.ts';
import { registerRates } from './rates/rates.command.ts';
import { registerShell } from './shell/shell.command.ts';

export function buildProgram(rt: Runtime): Command {
  const program = new Command('ratewire');
  program
    .description(
      'The Ratewire currency-rates service from the command line: rates, conversions, jobs, alerts, live events.',
    )
    .version(`ratewire ${VERSION}`, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(
      new Option('--url <url>', 'the service to talk to (default: the profile’s, or http://127.0.0.1:8000)').env(
        'RATEWIRE_URL',
      ),
    )
    .addOption(
      new Option('-p, --profile <name>', 'the profile to use (default: the current one)').env('RATEWIRE_PROFILE'),
    )
    .option('--json', 'print data as JSON')
    .option('--no-color', 'no colour or cursor codes (also NO_COLOR=1)')
    .option('--no-input', 'never prompt; fail instead when something must be asked')
    .showSuggestionAfterError()
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => rt.io.stdout.write(s),
      writeErr: (s) => rt.io.stderr.write(s),
      outputError: (s, write) => write(s),
    })
    .addHelpText(
      'after',
      `
Environment:
  RATEWIRE_URL       the service (as --url)
  RATEWIRE_TOKEN     an access token or API key; overrides the profile's
  RATEWIRE_PROFILE   the profile (as --profile)
  XDG_CONFIG_HOME    profiles live in $XDG_CONFIG_HOME/ratewire/config.json (default ~/.config)
  NATS_URL           the NATS server \`tail\` connects to
  NO_COLOR           no colour

${EXIT_CODES_HELP}
`,
    );
  registerAuth(program, rt);
  registerRates(program, rt);
  registerJobs(program, rt);
  registerAlerts(program, rt);
  registerLive(program, rt);
  registerShell(program, rt);
  return program;
}
