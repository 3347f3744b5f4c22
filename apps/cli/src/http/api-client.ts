// Every call to the service goes through here: one timeout, one way to send credentials, one way
// to read problem+json errors into a line and an exit code, every answer checked against its contract.
import { problemSchema } from '@ratewire/contracts/problem.schemas';
import type { z } from 'zod';

import { CliError, EXIT } from '../core/exit-codes.ts';
import { VERSION } from '../core/version.ts';

export type Query = Record<string, string | number | boolean | undefined | readonly string[]>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** `required`: fail with exit 4 before sending when there is no credential. Default `optional`. */
  auth?: 'required' | 'optional' | 'none';
  accept?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface Credential {
  token: string;
  /** Where the token came from, named in errors: `RATEWIRE_TOKEN` or `profile "<name>"`. */
  source: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class ApiClient {
  readonly baseUrl: string;
  readonly credential: Credential | undefined;
  readonly #signal: AbortSignal;

  constructor(baseUrl: string, credential: Credential | undefined, signal: AbortSignal) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.credential = credential;
    this.#signal = signal;
  }

  url(path: string, query?: Query): URL {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      url.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    return url;
  }

  /** A request whose JSON answer must match `schema`; 204 answers `undefined`. */
  async json<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    const res = await this.send(method, path, options);
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`unexpected answer from ${method} ${path}: not JSON`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CliError(
        `unexpected answer from ${method} ${path}: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
        EXIT.error,
        'the server and this client may be of different versions',
      );
    }
    return parsed.data;
  }

  /** A request whose answer is text (CSV, NDJSON). */
  async text(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    return (await this.send(method, path, options)).text();
  }

  /** Sends the request; a non-2xx answer becomes a CliError. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      accept: options.accept ?? 'application/json',
      'user-agent': `ratewire-cli/${VERSION}`,
      ...options.headers,
    };
    const auth = options.auth ?? 'optional';
    if (auth !== 'none' && this.credential) headers['authorization'] = `Bearer ${this.credential.token}`;
    else if (auth === 'required')
      throw new CliError(
        'not logged in',
        EXIT.auth,
        'run `ratewire login` (or set RATEWIRE_TOKEN to a token or API key)',
      );
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const url = this.url(path, options.query);
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.any([this.#signal, timeout]) });
    } catch (err) {
      if (this.#signal.aborted) throw new CliError('interrupted', EXIT.interrupted);
      if (timeout.aborted) throw new CliError(`${method} ${url.pathname}: no answer from ${this.baseUrl} in time`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        EXIT.error,
        'is the service running (npm start)? point at another with --url or RATEWIRE_URL',
      );
    }
    if (res.ok) return res;
    throw await this.problem(res, method, path);
  }

  async problem(res: Response, method: string, path: string): Promise<CliError> {
    const text = await res.text().catch(() => '');
    let message = `${method} ${path}: HTTP ${res.status}`;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the status line says it
    }
    const problem = problemSchema.safeParse(json);
    if (problem.success) {
      const p = problem.data;
      const fields = (p.errors ?? []).slice(0, 5).map((e) => `${e.path}: ${e.message}`);
      message = [`${p.detail || p.title} (HTTP ${p.status}, ${p.code})`, ...fields].join('; ');
    }
    message = message.replace(/[\r\n]+/g, ' ').slice(0, 500);
    if (res.status === 401) {
      const hint = this.credential
        ? `the credential from ${this.credential.source} was refused: run \`ratewire login\` again`
        : 'run `ratewire login` (or set RATEWIRE_TOKEN)';
      return new CliError(message, EXIT.auth, hint);
    }
    if (res.status === 404) return new CliError(message, EXIT.notFound);
    if (res.status === 429) {
      const retry = res.headers.get('retry-after');
      return new CliError(message, EXIT.error, retry ? `retry after ${retry} s` : undefined);
    }
    return new CliError(message, EXIT.error);
  }
}
