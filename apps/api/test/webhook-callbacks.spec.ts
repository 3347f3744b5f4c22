// Who signs a callback, end to end (HTTP submit → a real worker process → a real HTTP receiver):
// EXCHANGE_CALLBACK_URL keeps the first-stage shape (body `token`, signed with
// EXCHANGE_CALLBACK_TOKEN); a callback_url a user supplied never sees that token and is signed with
// the user's own webhook secret, with a second signature during the 24 h after a rotation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { waitFor, type AppProcess } from '@ratewire/testkit';
import { startReceiver, type ReceivedCallback, type Receiver } from '@ratewire/testkit/callback-receiver';

import {
  CALLBACK_TOKEN,
  expectedSignature,
  get,
  post,
  EXAMPLE_BODY,
  signatureEntries,
  signatureValid,
  spawnWorker,
  startJobsEnv,
  whsecKey,
  WORKER_READY,
  type JobsEnv,
} from './jobs-harness.ts';

let env: JobsEnv;
let worker: AppProcess;
/** The deployment's own EXCHANGE_CALLBACK_URL. */
let operator: Receiver;
/** An address users name as their jobs' callback_url. */
let users: Receiver;

beforeAll(async () => {
  env = await startJobsEnv();
  operator = await startReceiver();
  users = await startReceiver();
  worker = spawnWorker(env, { EXCHANGE_CALLBACK_URL: operator.url });
  await worker.waitForLine(WORKER_READY, 30_000);
});
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await operator?.stop();
  await users?.stop();
  await env?.close();
});

/** Submits a job and waits for its callback at `receiver`. */
async function callbackOf(
  receiver: Receiver,
  user: { token: string },
  requestId: string,
  callbackUrl?: string,
): Promise<ReceivedCallback> {
  const res = await post(`${env.api.url}/api/v1/exchange-jobs`, user.token, {
    request_id: requestId,
    ...(callbackUrl ? { callback_url: callbackUrl } : {}),
    ...EXAMPLE_BODY,
  });
  expect(res.status).toBe(202);
  const webhookId = `msg_${String(res.body.job_id)}`;
  return waitFor(() => receiver.received.find((r) => r.headers['webhook-id'] === webhookId), {
    timeoutMs: 20_000,
    what: `the callback of ${requestId}`,
  });
}

const secretOf = async (user: { token: string }) => {
  const res = await get(`${env.api.url}/api/v1/webhooks/secret`, user.token);
  expect(res.status).toBe(200);
  return String(res.body.secret);
};

describe('callback to EXCHANGE_CALLBACK_URL (no callback_url in the job)', () => {
  it('keeps the first-stage shape: body token, signed with EXCHANGE_CALLBACK_TOKEN only', async () => {
    const user = await env.user();
    const cb = await callbackOf(operator, user, 'default-1');
    expect(cb.body).toBe(
      `{"token":"${CALLBACK_TOKEN}","request_id":"default-1","breakdown":[` +
        `{"denomination_id":1,"subtotal_rub":3775.00},{"denomination_id":2,"subtotal_rub":4530.00}]}`,
    );
    expect(signatureEntries(cb)).toEqual([expectedSignature(cb, CALLBACK_TOKEN)]);
    expect(signatureValid(cb, whsecKey(await secretOf(user)))).toBe(false);
  });
});

describe("callback to a job's own callback_url", () => {
  it("carries no token and verifies with the owner's secret, not with EXCHANGE_CALLBACK_TOKEN", async () => {
    const user = await env.user();
    const cb = await callbackOf(users, user, 'own-1', users.url);
    expect(JSON.parse(cb.body)).not.toHaveProperty('token');
    expect(cb.body).not.toContain(CALLBACK_TOKEN);
    expect(signatureEntries(cb)).toEqual([expectedSignature(cb, whsecKey(await secretOf(user)))]);
    expect(signatureValid(cb, CALLBACK_TOKEN)).toBe(false);
  });

  it('after a rotation carries both signatures, each verifying with its own secret', async () => {
    const user = await env.user();
    const before = await secretOf(user);
    const rotated = await post(`${env.api.url}/api/v1/webhooks/secret/rotate`, user.token, {});
    expect(rotated.status).toBe(200);
    const after = String(rotated.body.secret);
    expect(after).not.toBe(before);
    expect(await secretOf(user)).toBe(after);

    const cb = await callbackOf(users, user, 'own-rotated', users.url);
    const [first, second, ...rest] = signatureEntries(cb);
    expect(rest).toEqual([]);
    expect(first).toBe(expectedSignature(cb, whsecKey(after)));
    expect(second).toBe(expectedSignature(cb, whsecKey(before)));
    expect(first).not.toBe(second);
    expect(signatureValid(cb, CALLBACK_TOKEN)).toBe(false);
    expect(cb.body).not.toContain(CALLBACK_TOKEN);
  });

  it("signs each user's callbacks with that user's secret only", async () => {
    const [ann, ben] = [await env.user(), await env.user()];
    const annCb = await callbackOf(users, ann, 'ann-1', users.url);
    const benCb = await callbackOf(users, ben, 'ben-1', users.url);
    const [annKey, benKey] = [whsecKey(await secretOf(ann)), whsecKey(await secretOf(ben))];
    expect(signatureValid(annCb, annKey)).toBe(true);
    expect(signatureValid(annCb, benKey)).toBe(false);
    expect(signatureValid(benCb, benKey)).toBe(true);
    expect(signatureValid(benCb, annKey)).toBe(false);
  });

  it('answers 401 to a caller without a token, on both routes', async () => {
    expect((await fetch(`${env.api.url}/api/v1/webhooks/secret`)).status).toBe(401);
    expect((await fetch(`${env.api.url}/api/v1/webhooks/secret/rotate`, { method: 'POST' })).status).toBe(401);
  });
});
