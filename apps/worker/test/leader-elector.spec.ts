// Leadership on a dedicated connection: one holder at a time; if the lock connection dies the
// leader stops at once and another replica takes over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, waitFor, type TestDatabase } from '@ratewire/testkit';

import { FEED_LEADER_LOCK, LeaderElector } from '../src/leadership/leader-elector.ts';
import { testLog } from './support.ts';

let database: TestDatabase;
const electors: LeaderElector[] = [];

function elector(name: string) {
  const e = new LeaderElector({ databaseUrl: database.url, log: testLog, retryMs: 200, checkMs: 200, name });
  const changes: boolean[] = [];
  e.onChange((leader) => changes.push(leader));
  electors.push(e);
  return { e, changes };
}

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(electors.map((e) => e.stop()));
  await database?.drop();
});

describe('LeaderElector', () => {
  it('one leader at a time; a dead lock connection ends leadership and the other takes over', async () => {
    const a = elector('rw-test-leader-a');
    a.e.start();
    await waitFor(() => a.e.isLeader, { what: 'a to lead' });
    const b = elector('rw-test-leader-b');
    b.e.start();
    // b tries several times while a holds the lock
    await waitFor(
      async () => {
        const r = await database.pool.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where application_name = 'rw-test-leader-b'",
        );
        return Number(r.rows[0]?.n) === 1;
      },
      { what: 'b to connect' },
    );
    expect(b.e.isLeader).toBe(false);

    // kill a's lock connection from the server side, as a network failure would
    await database.pool.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'rw-test-leader-a'",
    );
    await waitFor(() => !a.e.isLeader, { what: 'a to notice' });
    expect(a.changes).toEqual([true, false]);
    await waitFor(() => a.e.isLeader || b.e.isLeader, { what: 'a new leader' });
    expect(a.e.isLeader && b.e.isLeader).toBe(false);
    // pg_locks spans the cluster: count this database's holders of the leader key only
    const holders = await database.pool.query<{ n: string }>(
      `select count(*) as n from pg_locks
       where locktype = 'advisory' and granted and objid = $1
         and database = (select oid from pg_database where datname = current_database())`,
      [FEED_LEADER_LOCK],
    );
    expect(Number(holders.rows[0]?.n)).toBe(1);
  });

  it('stop() releases the lock for the other', async () => {
    const [first, second] = electors;
    const leader = first!.isLeader ? first! : second!;
    const other = leader === first ? second! : first!;
    await leader.stop();
    await waitFor(() => other.isLeader, { what: 'the other to lead' });
  });

  it('once shutting down it takes no lock, and a leader gives its lock up at the next check', async () => {
    await Promise.all(electors.map((e) => e.stop()));
    let stopping = false;
    const name = 'rw-test-leader-stopping';
    const e = new LeaderElector({
      databaseUrl: database.url,
      log: testLog,
      retryMs: 100,
      checkMs: 100,
      name,
      stopping: () => stopping,
    });
    electors.push(e);
    e.start();
    await waitFor(() => e.isLeader, { what: 'it to lead' });
    stopping = true;
    await waitFor(() => !e.isLeader, { what: 'it to give up' });
    const sessions = async () =>
      Number(
        (
          await database.pool.query<{ n: string }>(
            'select count(*) as n from pg_stat_activity where application_name = $1',
            [name],
          )
        ).rows[0]?.n,
      );
    await waitFor(async () => (await sessions()) === 0, { what: 'its lock session to end' });
    const next = elector('rw-test-leader-next');
    next.e.start();
    await waitFor(() => next.e.isLeader, { what: 'the next to lead' });
    await next.e.stop();
    // the lock is free now, and it still takes nothing: not even a connection
    e.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(e.isLeader).toBe(false);
    expect(await sessions()).toBe(0);
  });
});
