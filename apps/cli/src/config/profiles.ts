// Named profiles (a service URL and the credential for it) in $XDG_CONFIG_HOME/ratewire/config.json:
// the directory 0700, the file 0600, written whole to a temporary file and renamed over the old one.
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import { z } from 'zod';

import { CliError, EXIT, usageError } from '../core/exit-codes.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8000';
export const DEFAULT_PROFILE = 'default';

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const profileSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  /** An access token from `login`, or an API key (`rw_…`) from `login --api-key`. */
  token: z.string().min(1).max(4096).optional(),
  token_kind: z.enum(['session', 'api_key']).optional(),
  /** Who the token belongs to, as `whoami` last saw it. */
  email: z.string().max(320).optional(),
  /** When a session token stops working (ISO time), if known. */
  expires_at: z.iso.datetime({ offset: true }).optional(),
});

const configSchema = z.object({
  current: z.string().regex(PROFILE_NAME).default(DEFAULT_PROFILE),
  profiles: z.record(z.string().regex(PROFILE_NAME), profileSchema).default({}),
});

export type Profile = z.infer<typeof profileSchema>;
export type Config = z.infer<typeof configSchema>;

/** `$XDG_CONFIG_HOME/ratewire` (an unset or relative XDG_CONFIG_HOME means `~/.config`). */
export function configDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'ratewire');
  const home = env['HOME'];
  if (!home) throw new CliError('cannot find a place for the configuration', EXIT.error, 'set HOME or XDG_CONFIG_HOME');
  return join(home, '.config', 'ratewire');
}

export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name))
    throw usageError(`bad profile name ${JSON.stringify(name)}`, 'use letters, digits, ".", "_" and "-" (up to 64)');
  return name;
}

export class ConfigStore {
  readonly dir: string;
  readonly path: string;

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.dir = configDir(env);
    this.path = join(this.dir, 'config.json');
  }

  load(): Config {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { current: DEFAULT_PROFILE, profiles: {} };
      throw new CliError(`cannot read ${this.path}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`${this.path} is not valid JSON`, EXIT.error, 'fix it, or delete it and log in again');
    }
    const parsed = configSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '(top level)';
      throw new CliError(
        `${this.path}: ${where}: ${issue?.message ?? 'invalid'}`,
        EXIT.error,
        'fix it, or delete it and log in again',
      );
    }
    return parsed.data;
  }

  save(config: Config): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // an existing directory keeps its mode through mkdir: tighten it
    if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }

  /** Changes one profile (creating it) and saves. */
  update(name: string, change: (profile: Profile | undefined) => Profile | undefined): Config {
    const config = this.load();
    const next = change(config.profiles[name]);
    if (next) config.profiles[name] = next;
    else delete config.profiles[name];
    this.save(config);
    return config;
  }
}
