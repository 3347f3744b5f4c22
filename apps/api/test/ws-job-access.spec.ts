// Who may follow jobs:<id> on /ws: one rule — the job's owner, or an admin (the account's role
// now), and only for a job that exists. An unknown job is `forbidden` for everyone, admins
// included, so the answer never tells whether an id exists.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestUser } from './harness.ts';
import { startRestApi, type RestEnv } from './rest-support.ts';
import { WsClient } from './ws-harness.ts';

let t: RestEnv;
let owner: TestUser;
let other: TestUser;
let admin: TestUser;
let jobChannel: string;
const sockets: WsClient[] = [];

beforeAll(async () => {
  t = await startRestApi();
  [owner, other, admin] = await Promise.all([t.user('user'), t.user('user'), t.user('admin')]);
  const res = await t.request<{ job_id: string }>('POST', '/api/v1/exchange-jobs', {
    body: {
      request_id: randomUUID(),
      exchange_rate: '75.5',
      bills: [{ denomination_id: 1, denomination: 10, count: 1 }],
    },
    headers: owner.auth,
  });
  expect(res.status).toBe(202);
  jobChannel = `jobs:${res.body.job_id}`;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
});

async function socketOf(user: TestUser | null): Promise<WsClient> {
  const c = await WsClient.open(`${t.url.replace('http', 'ws')}/ws`);
  sockets.push(c);
  if (user) {
    c.send({ op: 'auth', token: user.token });
    expect(await c.waitFor((f) => f.type === 'authenticated' || f.type === 'error')).toEqual({
      type: 'authenticated',
      user_id: user.id,
    });
  }
  return c;
}

describe('/ws jobs:<id>', () => {
  it('answers forbidden for a job that does not exist, to an admin as to anyone', async () => {
    const unknown = `jobs:${randomUUID()}`;
    for (const who of [admin, owner, other, null]) {
      const c = await socketOf(who);
      expect(await c.subscribe(unknown)).toMatchObject({ type: 'error', code: 'forbidden' });
    }
  });

  it('subscribes the owner and an admin to an existing job, and no one else', async () => {
    expect(await (await socketOf(owner)).subscribe(jobChannel)).toEqual({ type: 'subscribed', channel: jobChannel });
    expect(await (await socketOf(admin)).subscribe(jobChannel)).toEqual({ type: 'subscribed', channel: jobChannel });
    expect(await (await socketOf(other)).subscribe(jobChannel)).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await (await socketOf(null)).subscribe(jobChannel)).toMatchObject({ type: 'error', code: 'forbidden' });
  });

  it('judges a socket authenticated earlier by its account as it is now: demoted or deleted admins lose access', async () => {
    const [demoted, deleted] = await Promise.all([t.user('admin'), t.user('admin')]);
    const admins = [await socketOf(demoted), await socketOf(deleted)];
    for (const s of admins) {
      expect(await s.subscribe(jobChannel)).toEqual({ type: 'subscribed', channel: jobChannel });
      s.send({ op: 'unsubscribe', channel: jobChannel });
    }
    await t.database.db.updateTable('users').set({ role: 'user' }).where('id', '=', demoted.id).execute();
    await t.database.db.deleteFrom('users').where('id', '=', deleted.id).execute();
    // the cached accounts are dropped on the change notification, within moments
    const deadline = Date.now() + 3000;
    for (;;) {
      const answers = [];
      for (const s of admins) {
        const answer = await s.subscribe(jobChannel);
        if (answer.type === 'subscribed') s.send({ op: 'unsubscribe', channel: jobChannel });
        answers.push(answer);
      }
      if (answers.every((a) => a.type === 'error')) {
        expect(answers.map((a) => a.code)).toEqual(['forbidden', 'forbidden']);
        break;
      }
      if (Date.now() > deadline) throw new Error(`still allowed: ${JSON.stringify(answers)}`);
    }
  });

  it('refuses a socket whose session has since logged out', async () => {
    const s = await socketOf(owner);
    expect(await s.subscribe(jobChannel)).toEqual({ type: 'subscribed', channel: jobChannel });
    s.send({ op: 'unsubscribe', channel: jobChannel });
    const out = await t.request('POST', '/api/v1/auth/logout', { headers: owner.auth });
    expect(out.status).toBe(204);
    const deadline = Date.now() + 3000;
    for (;;) {
      const answer = await s.subscribe(jobChannel);
      if (answer.type === 'error') {
        expect(answer).toMatchObject({ code: 'forbidden' });
        break;
      }
      s.send({ op: 'unsubscribe', channel: jobChannel });
      if (Date.now() > deadline) throw new Error('a logged-out session still follows the job');
    }
  });
});
