// Who a bearer token names, as the account is now. A token proves only the user id: the role, and
// whether the account still exists, are read from `users` at request time, so a demoted admin or a
// deleted account loses its rights on the next request, not when the token expires.
//
// Reads are cached per process, briefly. Every change that matters (role or email changed, account
// deleted, table truncated) is NOTIFYed on `ratewire_users` by a trigger on `users` when it commits,
// whoever makes it (migration 20261201120000); each api replica LISTENs on a dedicated connection
// and drops the entry at once, so the drop reaches every replica. The cache is used only while that
// connection is listening: when it is lost every entry is dropped and accounts are read from the
// database on each request until it listens again. An entry also expires after ACCOUNT_CACHE_TTL_MS,
// a bound on staleness should a notification ever be lost.
import {
  USERS_CHANGED_CHANNEL,
  connectDedicated,
  findUserById,
  listenUserChanges,
  type Database,
  type DedicatedClient,
} from '@ratewire/db';
import { errorMessage, type Logger } from '@ratewire/runtime';

import type { AuthUser } from '../http/request-context.ts';
import { verifyAccessToken, type TokenSettings } from './tokens.ts';

export const ACCOUNT_CACHE_TTL_MS = 5000;
const MAX_ENTRIES = 50_000;
const RECONNECT_MAX_MS = 10_000;

export interface AccountsDeps {
  db: Database;
  /** Where the dedicated LISTEN connection goes (the same database as `db`). */
  databaseUrl: string;
  settings: TokenSettings;
  log: Logger;
  ttlMs?: number;
}

export class Accounts {
  private readonly deps: AccountsDeps;
  private readonly ttlMs: number;
  private readonly entries = new Map<string, { user: AuthUser; expires: number }>();
  private readonly inflight = new Map<string, Promise<AuthUser | null>>();
  /** Bumped by every change notification: a read that started before one is not cached. */
  private generation = 0;
  private client: DedicatedClient | null = null;
  private listening = false;
  private closed = false;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;

  constructor(deps: AccountsDeps) {
    this.deps = deps;
    this.ttlMs = deps.ttlMs ?? ACCOUNT_CACHE_TTL_MS;
  }

  /** True while change notifications arrive (and so the cache is in use). */
  get isListening(): boolean {
    return this.listening;
  }

  /** Starts listening for changes (reconnecting until closed). */
  start(): void {
    void this.listen();
  }

  /** The caller a bearer token names, or null when the token is not valid or its account is gone (as REST checks it). */
  async authenticate(token: string): Promise<AuthUser | null> {
    const id = await verifyAccessToken(token, this.deps.settings);
    return id === null ? null : this.get(id);
  }

  /** The account as it is now, or null when there is none. */
  get(id: string): Promise<AuthUser | null> {
    if (this.listening) {
      const hit = this.entries.get(id);
      if (hit && hit.expires > Date.now()) return Promise.resolve(hit.user);
      if (hit) this.entries.delete(id);
    }
    return this.inflight.get(id) ?? this.load(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.forget();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private load(id: string): Promise<AuthUser | null> {
    const generation = this.generation;
    const pending = findUserById(this.deps.db, id)
      .then((row) => {
        const user: AuthUser | null = row ? { id: row.id, email: row.email, role: row.role } : null;
        if (user && this.listening && generation === this.generation) this.remember(user);
        return user;
      })
      .finally(() => {
        if (this.inflight.get(id) === pending) this.inflight.delete(id);
      });
    this.inflight.set(id, pending);
    return pending;
  }

  private remember(user: AuthUser): void {
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(user.id, { user, expires: Date.now() + this.ttlMs });
  }

  private changed(payload: string | undefined): void {
    this.generation++;
    if (!payload || payload === '*') return this.forget();
    this.entries.delete(payload);
    // later callers read again; those already waiting on that read get the value of its moment
    this.inflight.delete(payload);
  }

  private forget(): void {
    this.generation++;
    this.entries.clear();
    this.inflight.clear();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    let client: DedicatedClient | undefined;
    try {
      client = await connectDedicated(this.deps.databaseUrl, 'ratewire-api-accounts');
      const own = client;
      own.on('notification', (msg) => {
        if (msg.channel === USERS_CHANGED_CHANNEL) this.changed(msg.payload);
      });
      own.on('error', (err) => this.lost(own, err));
      own.on('end', () => this.lost(own));
      await listenUserChanges(own);
      if (this.closed) {
        await own.end().catch(() => {});
        return;
      }
      // changes made while nobody listened are unknown: start from an empty cache
      this.forget();
      this.client = own;
      this.listening = true;
      this.failures = 0;
    } catch (err) {
      await client?.end().catch(() => {});
      this.reconnectLater(err);
    }
  }

  private lost(client: DedicatedClient, err?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.listening = false;
    this.forget();
    client.end().catch(() => {});
    this.reconnectLater(err);
  }

  private reconnectLater(err: unknown): void {
    if (this.closed) return;
    this.failures++;
    const delay = Math.min(RECONNECT_MAX_MS, 500 * 2 ** Math.min(this.failures - 1, 5));
    this.deps.log.warn(
      { err: err === undefined ? 'connection ended' : errorMessage(err), delay },
      'account changes are not being received; reading accounts uncached until they are',
    );
    this.retry = setTimeout(() => void this.listen(), delay);
    this.retry.unref();
  }
}
