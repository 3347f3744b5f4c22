// Accounts and credentials: login, register, logout, whoami, confirm, password, profile.
import type { Command } from 'commander';

import { examples, lazyAction, type Runtime } from '../core/command.ts';

const actions = () => import('./auth.actions.ts');

export function registerAuth(program: Command, rt: Runtime): void {
  examples(
    lazyAction(
      rt,
      program
        .command('login')
        .description('log in and keep the token in the profile (password asked, never echoed)')
        .option('-e, --email <email>', 'the account’s address (asked when absent)')
        .option('--password-stdin', 'read the password from standard input')
        .option('--with-token', 'store a token or API key read from standard input instead of logging in'),
      async () => (await actions()).login,
    ),
    [
      'ratewire login',
      'ratewire login --email me@example.com',
      'echo "$RATEWIRE_PASSWORD" | ratewire login --email me@example.com --password-stdin',
      'echo "$API_KEY" | ratewire --profile ci --url https://rates.example.com login --with-token',
    ],
  );
  for (const name of ['register', 'registr']) {
    const cmd = program
      .command(name)
      .description(name === 'register' ? 'create an account, then log in' : 'the same as register')
      .option('-e, --email <email>', 'the address (asked when absent)')
      .option('-n, --name <name>', 'a display name')
      .option('--password-stdin', 'read the password from standard input');
    lazyAction(rt, cmd, async () => (await actions()).register);
    if (name === 'register')
      examples(cmd, ['ratewire register --email me@example.com', 'ratewire register --email me@example.com --name Me']);
  }
  examples(
    lazyAction(
      rt,
      program
        .command('logout')
        .description('end the session and forget the token')
        .option('--all', 'end every session of the account'),
      async () => (await actions()).logout,
    ),
    ['ratewire logout', 'ratewire logout --all'],
  );
  examples(
    lazyAction(
      rt,
      program.command('whoami').description('who the current credential belongs to'),
      async () => (await actions()).whoami,
    ),
    ['ratewire whoami', 'ratewire whoami --json'],
  );
  examples(
    lazyAction(
      rt,
      program
        .command('confirm')
        .description('confirm the e-mail address with the token from the mailed link')
        .argument('[token]', 'the token (the link’s ?token=…)')
        .option('--resend', 'mail a new confirmation link instead'),
      async () => (await actions()).confirm,
    ),
    ['ratewire confirm 3q2-7w…', 'ratewire confirm --resend'],
  );
  const password = program.command('password').description('change or reset a password');
  examples(
    lazyAction(
      rt,
      password.command('change').description('change your password (both asked)'),
      async () => (await actions()).passwordChange,
    ),
    ['ratewire password change'],
  );
  examples(
    lazyAction(
      rt,
      password
        .command('reset')
        .description('mail a reset link to an address (answered the same whether or not it has an account)')
        .argument('<email>'),
      async () => (await actions()).passwordReset,
    ),
    ['ratewire password reset me@example.com'],
  );
  examples(
    lazyAction(
      rt,
      password
        .command('reset-confirm')
        .description('set a new password with the token from the reset mail')
        .argument('<token>')
        .option('--password-stdin', 'read the new password from standard input'),
      async () => (await actions()).passwordResetConfirm,
    ),
    ['ratewire password reset-confirm 9Zk…'],
  );
  const profile = program.command('profile').description('named profiles: a service URL and its credential');
  examples(
    lazyAction(rt, profile.command('list').description('list profiles'), async () => (await actions()).profileList),
    ['ratewire profile list'],
  );
  examples(
    lazyAction(
      rt,
      profile
        .command('use')
        .description('make a profile the current one (created with --url when new)')
        .argument('<name>'),
      async () => (await actions()).profileUse,
    ),
    ['ratewire --url https://rates.example.com profile use prod', 'ratewire profile use default'],
  );
  examples(
    lazyAction(
      rt,
      profile.command('rm').description('delete a profile and its credential').argument('<name>'),
      async () => (await actions()).profileRemove,
    ),
    ['ratewire profile rm old'],
  );
}
