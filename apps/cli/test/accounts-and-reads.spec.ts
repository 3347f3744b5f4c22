// Accounts, profiles and reads, run in-process against the whole stack over HTTP.
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort } from '@ratewire/testkit';
import { startStack, type Stack } from '@ratewire/testkit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cliRunner, type CliRunner } from './cli-harness.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const runner = (env: Record<string, string> = {}) => cliRunner({ RATEWIRE_URL: stack.url, ...env });

describe('register, login, whoami, logout', () => {
  let cli: CliRunner;
  const email = `reg-${Date.now()}@cli.test`;
  const password = 'a long enough password';

  beforeAll(() => {
    cli = runner();
  });

  it('registers with the password from stdin, logs in, and keeps the token in a 0600 file in a 0700 folder', async () => {
    const r = await cli.run(['register', '--email', email, '--password-stdin'], { stdin: `${password}\n` });
    expect(r.stderr).toContain(`Registered ${email}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const file = join(cli.configDir, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(cli.configDir).mode & 0o777).toBe(0o700);
    const config = JSON.parse(readFileSync(file, 'utf8')) as {
      current: string;
      profiles: Record<string, { url: string; token?: string; email?: string }>;
    };
    expect(config.current).toBe('default');
    expect(config.profiles['default']).toMatchObject({ url: stack.url, email });
    expect(config.profiles['default']?.token).toMatch(/\S{20,}/);
  });

  it('whoami names the account, as a record and as JSON', async () => {
    const human = await cli.run(['whoami']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`email\\s+${email}`));
    expect(human.stdout).toMatch(/confirmed\s+no/);
    const json = await cli.run(['whoami', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ email, role: 'user', email_confirmed: false });
  });

  it('confirms the address with the token from the mailed link', async () => {
    const mail = await stack.mailbox.waitFor((m) => m.to.some((t) => t.address === email), { timeoutMs: 20_000 });
    const token = /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
    expect(token).toBeDefined();
    const r = await cli.run(['confirm', token ?? '']);
    expect(r.stderr).toContain(`Confirmed ${email}`);
    expect(r.code).toBe(0);
    expect(JSON.parse((await cli.run(['whoami', '--json'])).stdout)).toMatchObject({ email_confirmed: true });
  });

  it('a wrong password is one line and exit 4; the right one logs in again', async () => {
    const wrong = await cli.run(['login', '--email', email, '--password-stdin'], { stdin: 'not it\n' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr.split('\n')[0]).toMatch(/^error: .*\(HTTP 401/);
    const right = await cli.run(['login', '--email', email, '--password-stdin'], { stdin: `${password}\n` });
    expect(right.code).toBe(0);
    expect(right.stderr).toContain(`Logged in to ${stack.url} as ${email}`);
  });

  it('logout ends the session on the server: the old token is refused', async () => {
    const before = JSON.parse(readFileSync(join(cli.configDir, 'config.json'), 'utf8')) as {
      profiles: Record<string, { token?: string }>;
    };
    const token = before.profiles['default']?.token ?? '';
    const r = await cli.run(['logout']);
    expect(r.code).toBe(0);
    const me = await fetch(`${stack.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
    const after = await cli.run(['whoami']);
    expect(after.code).toBe(4);
    expect(after.stderr).toMatch(/^error: not logged in\n {2}run `ratewire login`/);
  });

  it('without a terminal and without --password-stdin, login asks nothing and fails as a usage error', async () => {
    const r = await cli.run(['login', '--email', email]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Password is needed\n.*--password-stdin/);
  });

  it('RATEWIRE_TOKEN overrides the profile; a stored token is never sent to another URL', async () => {
    const user = await stack.user();
    const viaEnv = await cli.run(['whoami', '--json'], { env: { RATEWIRE_TOKEN: user.token } });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ email: user.email });
    const other = runner();
    expect((await other.run(['login', '--with-token'], { stdin: `${user.token}\n` })).code).toBe(0);
    expect(JSON.parse((await other.run(['whoami', '--json'])).stdout)).toMatchObject({ email: user.email });
    // the same service by another name: the token stays home
    const elsewhere = await other.run(['whoami'], {
      env: { RATEWIRE_URL: stack.url.replace('127.0.0.1', 'localhost') },
    });
    expect(elsewhere.code).toBe(4);
  });
});

describe('profiles', () => {
  it('use creates a profile for a URL and makes it current; list shows it; rm deletes it', async () => {
    const cli = cliRunner();
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect((await cli.run(['--url', closed, 'profile', 'use', 'staging'])).code).toBe(0);
    const list = await cli.run(['profile', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([
      { name: 'staging', current: true, url: closed, email: null, credential: null },
    ]);
    const unreachable = await cli.run(['rates', 'binance', 'BTCUSDT']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(
      `error: cannot reach ${closed}: ECONNREFUSED\n  is the service running (npm start)? point at another with --url or RATEWIRE_URL\n`,
    );
    expect((await cli.run(['profile', 'rm', 'staging'])).code).toBe(0);
    expect((await cli.run(['profile', 'rm', 'staging'])).code).toBe(3);
  });

  it('a broken config file is named with what to do', async () => {
    const cli = cliRunner();
    await cli.run(['--url', 'http://127.0.0.1:1', 'profile', 'use', 'x']);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(cli.configDir, 'config.json'), '{"current": 7}');
    const r = await cli.run(['whoami']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('config.json: current:');
    expect(r.stderr).toContain('delete it and log in again');
  });
});

describe('reads', () => {
  let cli: CliRunner;
  beforeAll(() => {
    cli = runner();
  });

  it('rates binance SYMBOL prints the stored price; --json prints the answer as the API gave it', async () => {
    const api = (await (await fetch(`${stack.url}/api/v1/rates/binance/BTCUSDT`)).json()) as { price: string };
    const human = await cli.run(['rates', 'binance', 'BTCUSDT']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`^SYMBOL\\s+PRICE\\s+STATUS\\s+UPDATED\\nBTCUSDT\\s+${api.price.replace('.', '\\.')}\\s+TRADING`),
    );
    const json = await cli.run(['rates', 'binance', 'btcusdt', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ symbol: 'BTCUSDT', price: api.price });
  });

  it('reads are public: a stale credential in the environment does not stop them', async () => {
    const r = await cli.run(['rates', 'binance', 'BTCUSDT'], {
      env: { RATEWIRE_TOKEN: 'rw_revoked00_0123456789abcdefghijklmnopqrstuv' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(
      (
        await cli.run(['convert', '1', 'USD', 'EUR'], {
          env: { RATEWIRE_TOKEN: 'rw_revoked00_0123456789abcdefghijklmnopqrstuv' },
        })
      ).code,
    ).toBe(0);
  });

  it('an unknown symbol is exit 3 with the service’s message on one line', async () => {
    const r = await cli.run(['rates', 'binance', 'NOSUCHPAIR']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: .*NOSUCHPAIR.*\(HTTP 404, [a-z_]+\)\n$/);
    expect(r.stdout).toBe('');
  });

  it('rates binance with several symbols lists each', async () => {
    const r = await cli.run(['rates', 'binance', 'BTCUSDT', 'ETHUSDT']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Binance spot prices, 2 symbols/);
    expect(r.stdout).toMatch(/\nBTCUSDT\s+\d/);
    expect(r.stdout).toMatch(/\nETHUSDT\s+\d/);
  });

  it('rates cbr prints the effective date and each currency; a day resolves to its publication', async () => {
    const latest = (await (await fetch(`${stack.url}/api/v1/rates/cbr/latest?symbols=USD`)).json()) as {
      date: string;
      rates: { USD: { unit_rate: string } };
    };
    const r = await cli.run(['rates', 'cbr', '--symbols', 'usd']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`CBR rates in force on ${latest.date}, in RUB`);
    expect(r.stdout).toMatch(new RegExp(`\\nUSD\\s+1\\s+\\S+\\s+${latest.rates.USD.unit_rate.replace('.', '\\.')}\\n`));
    const day = await cli.run(['rates', 'cbr', latest.date, '--json']);
    expect(JSON.parse(day.stdout)).toMatchObject({ date: latest.date, base: 'RUB' });
    const bad = await cli.run(['rates', 'cbr', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected "latest" or a day YYYY-MM-DD/);
  });

  it('rates cbr series prints the days; --csv prints the service’s CSV', async () => {
    const latest = (await (await fetch(`${stack.url}/api/v1/rates/cbr/latest`)).json()) as { date: string };
    const r = await cli.run(['rates', 'cbr', 'series', 'USD', '--from', latest.date, '--to', latest.date]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^DATE\\s+NOMINAL\\s+VALUE\\s+UNIT RATE\\n${latest.date}\\s+1\\s+\\d`));
    const csv = await cli.run(['rates', 'cbr', 'series', 'USD', '--from', latest.date, '--to', latest.date, '--csv']);
    expect(csv.stdout.split('\r\n')[0]).toMatch(/^date,/);
  });

  it('convert shows the rate used and its date; a bad amount is the service’s 422 on one line', async () => {
    const api = (await (await fetch(`${stack.url}/api/v1/convert?amount=100&from=USD&to=EUR`)).json()) as {
      result: string;
      rate: string;
      date: string;
    };
    const r = await cli.run(['convert', '100', 'usd', 'eur']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`100 USD = ${api.result} EUR  (rate ${api.rate}, CBR rates of ${api.date})\n`);
    const bad = await cli.run(['convert', '1e5', 'USD', 'EUR']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*HTTP 422.*amount: /);
  });

  it('fluctuation lists start, end and change per currency', async () => {
    const r = await cli.run(['fluctuation', 'USD', '--json']);
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout) as { rates: Record<string, { start_rate: string }> };
    expect(Object.keys(f.rates)).toEqual(['USD']);
  });

  it('an unknown command or option is a usage error (exit 2) with a suggestion', async () => {
    const r = await cli.run(['rates', 'binanse']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'binanse'[\s\S]*Did you mean binance\?/);
    const missing = await cli.run(['convert', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("error: missing required argument 'from'\n(run with --help for usage and examples)\n");
  });
});
