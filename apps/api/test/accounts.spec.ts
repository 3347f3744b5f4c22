// The account cache behind bearer tokens, against a real Postgres: a change is dropped from the
// cache by the `users` trigger's NOTIFY, the cache steps aside while that feed is lost, and an
// entry never outlives its TTL even when a change was not announced.
import { randomUUID } from 'node:crypto';

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '@ratewire/runtime';
import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';

import { Accounts } from '../src/auth/accounts.ts';
import { ChangeFeed } from '../src/auth/change-feed.ts';
import { signAccessToken } from '../src/auth/tokens.ts';
import { sessionToken } from './harness.ts';

let database: TestDatabase;
const open = new Map<Accounts, ChangeFeed>();
const listening = (a: Accounts) => open.get(a)!.isListening;
const settings = { JWT_SECRET: 'accounts-test-secret-0123456789abcdef', JWT_TTL_SECONDS: 3600 };

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const feed of open.values()) await feed.close();
  await database?.drop();
});

async function started(ttlMs?: number): Promise<Accounts> {
  const changes = new ChangeFeed({ databaseUrl: database.url, log: createLogger('accounts-test', 'silent') });
  const accounts = new Accounts({ db: database.db, changes, settings, ...(ttlMs === undefined ? {} : { ttlMs }) });
  open.set(accounts, changes);
  changes.start();
  await waitFor(() => changes.isListening, { what: 'the change feed' });
  return accounts;
}

async function newUser(role: 'user' | 'admin') {
  return database.db
    .insertInto('users')
    .values({ email: `${randomUUID()}@accounts.test`, password_hash: 'x', role })
    .returning(['id', 'email'])
    .executeTakeFirstOrThrow();
}

const setRole = (id: string, role: 'user' | 'admin') =>
  database.db.updateTable('users').set({ role }).where('id', '=', id).execute();

describe('Accounts', () => {
  it('serves a cached account until the trigger announces its change, on every instance', async () => {
    const [a, b] = await Promise.all([started(60_000), started(60_000)]);
    const u = await newUser('admin');
    expect(await a.get(u.id)).toEqual({ id: u.id, email: u.email, role: 'admin', emailConfirmed: false });
    expect(await b.get(u.id)).toMatchObject({ role: 'admin' });
    // the entries would live a minute: the trigger's announcement drops them
    await setRole(u.id, 'user');
    for (const accounts of [a, b]) {
      await waitFor(async () => (await accounts.get(u.id))?.role === 'user', { timeoutMs: 3000, what: 'demotion' });
    }
    await database.db.deleteFrom('users').where('id', '=', u.id).execute();
    for (const accounts of [a, b]) {
      await waitFor(async () => (await accounts.get(u.id)) === null, { timeoutMs: 3000, what: 'deletion' });
    }
  });

  it('drops every entry on TRUNCATE', async () => {
    const a = await started(60_000);
    // a database of its own: TRUNCATE must not take the other tests' rows
    const u = await newUser('admin');
    expect(await a.get(u.id)).toMatchObject({ role: 'admin' });
    await sql`truncate users cascade`.execute(database.db);
    await waitFor(async () => (await a.get(u.id)) === null, { timeoutMs: 3000, what: 'truncate' });
  });

  it('expires an entry after its TTL even when the change was never announced', async () => {
    const a = await started(300);
    const u = await newUser('admin');
    expect(await a.get(u.id)).toMatchObject({ role: 'admin' });
    await database.db.transaction().execute(async (trx) => {
      // no trigger fires in this session: the cache is not told
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx.updateTable('users').set({ role: 'user' }).where('id', '=', u.id).execute();
    });
    expect(await a.get(u.id)).toMatchObject({ role: 'admin' }); // still the cached entry
    await new Promise((r) => setTimeout(r, 350));
    expect(await a.get(u.id)).toMatchObject({ role: 'user' });
  });

  it('reads uncached while its listening connection is lost, then listens again', async () => {
    const a = await started(60_000);
    const u = await newUser('admin');
    expect(await a.get(u.id)).toMatchObject({ role: 'admin' });
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and application_name = 'ratewire-api-changes'`.execute(database.db);
    await waitFor(() => !listening(a), { timeoutMs: 3000, what: 'the listener to notice' });
    // nothing announces this change, and nothing needs to: every read goes to the database now
    await database.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx.updateTable('users').set({ role: 'user' }).where('id', '=', u.id).execute();
    });
    expect(await a.get(u.id)).toMatchObject({ role: 'user' });
    await waitFor(() => listening(a), { timeoutMs: 5000, what: 'the listener to reconnect' });
    await setRole(u.id, 'admin');
    await waitFor(async () => (await a.get(u.id))?.role === 'admin', { timeoutMs: 3000, what: 'promotion' });
  });

  it('authenticates a token only for an account that exists, in a session that exists and is its own', async () => {
    const a = await started();
    const u = await newUser('user');
    const token = await sessionToken(database.db, u.id, settings);
    expect(await a.authenticate(token)).toMatchObject({
      user: { id: u.id, email: u.email, role: 'user', emailConfirmed: false },
      credential: { kind: 'session' },
    });
    const ghost = await signAccessToken({ userId: randomUUID(), sessionId: randomUUID() }, settings);
    expect(await a.authenticate(ghost)).toMatchObject({ status: 401, code: 'unknown_user' });
    const noSession = await signAccessToken({ userId: u.id, sessionId: randomUUID() }, settings);
    expect(await a.authenticate(noSession)).toMatchObject({ status: 401, code: 'invalid_token' });
    // another account's session does not carry over
    const other = await newUser('user');
    const otherToken = await sessionToken(database.db, other.id, settings);
    const sid = (await a.authenticate(otherToken)) as { credential: { kind: 'session'; sessionId: string } };
    const borrowed = await signAccessToken({ userId: u.id, sessionId: sid.credential.sessionId }, settings);
    expect(await a.authenticate(borrowed)).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('refuses a session once it is revoked, or once the account ends every session, on every instance', async () => {
    const [a, b] = await Promise.all([started(60_000), started(60_000)]);
    const u = await newUser('user');
    const first = await sessionToken(database.db, u.id, settings);
    const second = await sessionToken(database.db, u.id, settings);
    for (const accounts of [a, b]) {
      expect(await accounts.authenticate(first)).toMatchObject({ user: { id: u.id } });
      expect(await accounts.authenticate(second)).toMatchObject({ user: { id: u.id } });
    }
    const sid = ((await a.authenticate(first)) as { credential: { sessionId: string } }).credential.sessionId;
    await database.db.updateTable('sessions').set({ revoked_at: new Date() }).where('id', '=', sid).execute();
    for (const accounts of [a, b]) {
      await waitFor(async () => (await accounts.authenticate(first)) instanceof Error, { what: 'the revocation' });
      expect(await accounts.authenticate(first)).toMatchObject({ code: 'session_ended' });
      expect(await accounts.authenticate(second)).toMatchObject({ user: { id: u.id } });
    }
    await database.db.updateTable('users').set({ sessions_valid_after: new Date() }).where('id', '=', u.id).execute();
    for (const accounts of [a, b]) {
      await waitFor(async () => (await accounts.authenticate(second)) instanceof Error, { what: 'logout-all' });
    }
    // a session opened afterwards is live
    const third = await sessionToken(database.db, u.id, settings);
    expect(await b.authenticate(third)).toMatchObject({ user: { id: u.id } });
  });
});
