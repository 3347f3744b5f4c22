import { tokenResponse, userSchema } from '@ratewire/contracts/auth.schemas';

import type { Action } from '../core/command.ts';
import { checkProfileName, DEFAULT_URL } from '../config/profiles.ts';
import type { Ctx } from '../core/context.ts';
import { normaliseUrl } from '../core/context.ts';
import { CliError, EXIT, usageError } from '../core/exit-codes.ts';
import { askSecret, askText, readSecretLine } from '../core/prompt.ts';
import { ApiClient } from '../http/api-client.ts';

async function emailOf(ctx: Ctx, given: unknown): Promise<string> {
  if (typeof given === 'string' && given) return given;
  return (await askText(ctx, 'Email: ', 'pass --email')).trim();
}

async function passwordOf(ctx: Ctx, fromStdin: unknown, question = 'Password: '): Promise<string> {
  if (fromStdin === true) return readSecretLine(ctx);
  return askSecret(ctx, question, 'pass --password-stdin and pipe the password in');
}

/** A new password, asked twice at a terminal. */
async function newPassword(ctx: Ctx, fromStdin: unknown): Promise<string> {
  const first = await passwordOf(ctx, fromStdin, 'New password: ');
  if (fromStdin === true) return first;
  const again = await askSecret(ctx, 'Again: ', 'pass --password-stdin');
  if (first !== again) throw usageError('the two passwords differ');
  return first;
}

/** Saves the credential into the profile for the current URL (and makes the profile current). */
function remember(ctx: Ctx, token: string, kind: 'session' | 'api_key', email: string, expiresIn?: number): void {
  const t = ctx.target();
  const store = ctx.config();
  store.update(t.profileName, () => ({
    url: t.url,
    token,
    token_kind: kind,
    email,
    ...(expiresIn ? { expires_at: new Date(Date.now() + expiresIn * 1000).toISOString() } : {}),
  }));
  const config = store.load();
  if (config.current !== t.profileName) store.save({ ...config, current: t.profileName });
}

async function loginWith(ctx: Ctx, email: string, password: string) {
  const tokens = await ctx
    .api()
    .json(tokenResponse, 'POST', '/api/v1/auth/login', { body: { email, password }, auth: 'none' });
  remember(ctx, tokens.access_token, 'session', email, tokens.expires_in);
  return tokens;
}

export const login: Action = async (ctx, _args, opts) => {
  const t = ctx.target();
  if (opts['withToken'] === true) {
    const token = await readSecretLine(ctx);
    const check = new ApiClient(t.url, { token, source: 'standard input' }, ctx.io.signal);
    const me = await check.json(userSchema, 'GET', '/api/v1/auth/me', { auth: 'required' });
    remember(ctx, token, token.startsWith('rw_') ? 'api_key' : 'session', me.email);
    ctx.say(`Stored the credential of ${me.email} in profile "${t.profileName}" (${t.url}).`);
    return;
  }
  const email = await emailOf(ctx, opts['email']);
  const password = await passwordOf(ctx, opts['passwordStdin']);
  await loginWith(ctx, email, password);
  ctx.say(`Logged in to ${t.url} as ${email} (profile "${t.profileName}").`);
  if (ctx.io.env['RATEWIRE_TOKEN']) ctx.say('Note: RATEWIRE_TOKEN is set and overrides the stored token.');
};

export const register: Action = async (ctx, _args, opts) => {
  const email = await emailOf(ctx, opts['email']);
  const password = await newPassword(ctx, opts['passwordStdin']);
  const name = typeof opts['name'] === 'string' ? opts['name'] : undefined;
  const user = await ctx
    .api()
    .json(userSchema, 'POST', '/api/v1/auth/register', { body: { email, password, name }, auth: 'none' });
  await loginWith(ctx, email, password);
  if (ctx.json) ctx.printJson(user);
  ctx.say(`Registered ${user.email} and logged in (profile "${ctx.target().profileName}").`);
  if (!user.email_confirmed)
    ctx.say('A confirmation link was mailed: open it, or run `ratewire confirm <token>` with its token.');
};

export const logout: Action = async (ctx, _args, opts) => {
  const t = ctx.target();
  if (!t.credential) throw new CliError('not logged in', EXIT.auth);
  if (t.credential.source === 'RATEWIRE_TOKEN')
    throw usageError('the credential comes from RATEWIRE_TOKEN', 'unset it; nothing is stored to forget');
  if (t.profile?.token_kind !== 'api_key') {
    const path = opts['all'] === true ? '/api/v1/auth/logout-all' : '/api/v1/auth/logout';
    try {
      await ctx.api().send('POST', path, { auth: 'required' });
    } catch (err) {
      // an expired or refused token is as good as logged out: forget it all the same
      if (!(err instanceof CliError && err.exitCode === EXIT.auth)) throw err;
    }
  }
  ctx.config().update(t.profileName, (p) => (p ? { url: p.url } : undefined));
  ctx.say(`Logged out of ${t.url} (profile "${t.profileName}").`);
};

export const whoami: Action = async (ctx) => {
  const t = ctx.target();
  const me = await ctx.api().json(userSchema, 'GET', '/api/v1/auth/me', { auth: 'required' });
  ctx.output(me, () =>
    ctx.record([
      ['email', me.email],
      ['name', me.name],
      ['id', me.id],
      ['role', me.role],
      ['confirmed', me.email_confirmed ? 'yes' : 'no'],
      ['url', t.url],
      ['profile', t.profileName],
      ['credential', t.credential?.source],
    ]),
  );
};

export const confirm: Action = async (ctx, [token], opts) => {
  if (opts['resend'] === true) {
    await ctx.api().send('POST', '/api/v1/auth/confirm/resend', { auth: 'required' });
    ctx.say('A new confirmation link was mailed.');
    return;
  }
  if (typeof token !== 'string' || !token) throw usageError('the token from the mailed link is needed', 'or --resend');
  const user = await ctx.api().json(userSchema, 'POST', '/api/v1/auth/confirm', { body: { token }, auth: 'none' });
  if (ctx.json) ctx.printJson(user);
  ctx.say(`Confirmed ${user.email}.`);
};

export const passwordChange: Action = async (ctx) => {
  const current = await askSecret(ctx, 'Current password: ', 'run this at a terminal');
  const next = await newPassword(ctx, false);
  await ctx.api().send('POST', '/api/v1/auth/password', {
    body: { current_password: current, new_password: next },
    auth: 'required',
  });
  ctx.say('Password changed; other sessions were ended. Run `ratewire login` again to get a new token here.');
};

export const passwordReset: Action = async (ctx, [email]) => {
  await ctx.api().send('POST', '/api/v1/auth/password-reset', { body: { email }, auth: 'none' });
  ctx.say(`If ${String(email)} has an account, a reset link is on its way.`);
};

export const passwordResetConfirm: Action = async (ctx, [token], opts) => {
  const password = await newPassword(ctx, opts['passwordStdin']);
  await ctx.api().send('POST', '/api/v1/auth/password-reset/confirm', { body: { token, password }, auth: 'none' });
  ctx.say('Password set; every earlier session was ended. Log in with `ratewire login`.');
};

export const profileList: Action = (ctx) => {
  const config = ctx.config().load();
  const rows = Object.entries(config.profiles).map(([name, p]) => ({
    name,
    current: name === config.current,
    url: p.url,
    email: p.email ?? null,
    credential: p.token ? (p.token_kind ?? 'session') : null,
  }));
  ctx.output(rows, () =>
    rows.length === 0
      ? 'No profiles yet: `ratewire login` creates one.'
      : ctx.table(rows, [
          { header: '', value: (r) => (r.current ? '*' : ' ') },
          { header: 'PROFILE', value: (r) => r.name },
          { header: 'URL', value: (r) => r.url },
          { header: 'ACCOUNT', value: (r) => r.email },
          { header: 'CREDENTIAL', value: (r) => r.credential },
        ]),
  );
};

export const profileUse: Action = (ctx, [name]) => {
  const profileName = checkProfileName(String(name));
  const store = ctx.config();
  const config = store.load();
  const url = ctx.globals.url ?? ctx.io.env['RATEWIRE_URL'];
  const existing = config.profiles[profileName];
  if (!existing && !url) throw usageError(`no profile "${profileName}"`, 'create it with --url <url>');
  config.profiles[profileName] =
    existing && (!url || normaliseUrl(url, '--url') === existing.url)
      ? existing
      : { url: normaliseUrl(url ?? DEFAULT_URL, '--url') };
  config.current = profileName;
  store.save(config);
  ctx.say(`Using profile "${profileName}" (${config.profiles[profileName]?.url}).`);
};

export const profileRemove: Action = (ctx, [name]) => {
  const profileName = checkProfileName(String(name));
  const store = ctx.config();
  const config = store.load();
  if (!config.profiles[profileName]) throw new CliError(`no profile "${profileName}"`, EXIT.notFound);
  delete config.profiles[profileName];
  store.save(config);
  ctx.say(`Deleted profile "${profileName}".`);
};
