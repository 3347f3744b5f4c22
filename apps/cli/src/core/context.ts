// What a command's action gets: its streams, the global options, the profile store, and the
// API client for the service and credential the options, the environment and the profile name.
import { ApiClient, type Credential, type Query } from '../http/api-client.ts';
import { ConfigStore, DEFAULT_URL, checkProfileName, type Profile } from '../config/profiles.ts';
import { renderRecord, renderTable, type Column } from '../output/table.ts';
import { usageError } from './exit-codes.ts';
import { colourEnabled, type Io } from './io.ts';

export interface Globals {
  url?: string;
  profile?: string;
  json?: boolean;
  /** false with --no-color */
  color?: boolean;
  /** false with --no-input: never prompt */
  input?: boolean;
}

export interface Target {
  url: string;
  profileName: string;
  profile: Profile | undefined;
  credential: Credential | undefined;
}

export function normaliseUrl(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${what}: ${JSON.stringify(raw)} is not a URL`, 'e.g. http://127.0.0.1:8000');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`${what}: ${JSON.stringify(raw)} is not an http(s) URL`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export class Ctx {
  readonly io: Io;
  readonly globals: Globals;
  readonly colour: boolean;
  #config: ConfigStore | undefined;
  #target: Target | undefined;
  #api: ApiClient | undefined;

  constructor(io: Io, globals: Globals) {
    this.io = io;
    this.globals = globals;
    this.colour = colourEnabled(io, globals.color);
  }

  get json(): boolean {
    return this.globals.json === true;
  }

  /** Prompts are allowed: stdin is a terminal and --no-input was not given. */
  get interactive(): boolean {
    return this.globals.input !== false && this.io.stdin.isTTY === true;
  }

  config(): ConfigStore {
    return (this.#config ??= new ConfigStore(this.io.env));
  }

  /**
   * The service and credential: URL from --url, RATEWIRE_URL, the profile, or the default; token
   * from RATEWIRE_TOKEN, or the profile's — which is sent only to the URL it was issued by.
   */
  target(): Target {
    if (this.#target) return this.#target;
    const env = this.io.env;
    const named = this.globals.profile ?? env['RATEWIRE_PROFILE'];
    const config = this.config().load();
    const profileName = checkProfileName(named ?? config.current);
    const profile = config.profiles[profileName];
    const explicit = this.globals.url ?? env['RATEWIRE_URL'];
    const url = normaliseUrl(explicit ?? profile?.url ?? DEFAULT_URL, this.globals.url ? '--url' : 'RATEWIRE_URL');
    let credential: Credential | undefined;
    const envToken = env['RATEWIRE_TOKEN'];
    if (envToken) credential = { token: envToken, source: 'RATEWIRE_TOKEN' };
    else if (profile?.token && normaliseUrl(profile.url, 'profile url') === url)
      credential = { token: profile.token, source: `profile "${profileName}"` };
    return (this.#target = { url, profileName, profile, credential });
  }

  api(): ApiClient {
    const t = this.target();
    return (this.#api ??= new ApiClient(t.url, t.credential, this.io.signal));
  }

  /** Data on stdout. */
  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Messages for the person (progress, confirmations) on stderr, so stdout stays data. */
  say(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** `--csv`: the service renders it (Accept and `?format=csv`); it is printed as it came. */
  async printCsv(path: string, query: Query, auth: 'required' | 'none'): Promise<void> {
    const body = await this.api().text('GET', path, { query: { ...query, format: 'csv' }, accept: 'text/csv', auth });
    this.io.stdout.write(body);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** `--json` prints the value as it came; otherwise `human` renders it. */
  output(value: unknown, human: () => string): void {
    if (this.json) this.printJson(value);
    else this.print(human());
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
    return renderTable(rows, columns, this.colour);
  }

  record(pairs: readonly (readonly [string, string | null | undefined])[]): string {
    return renderRecord(pairs, this.colour);
  }
}
