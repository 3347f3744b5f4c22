import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { webhookSecretSchema, type WebhookSecretDto } from '@ratewire/contracts';

import { startTestApi, type TestApi, type TestUser } from './harness.ts';

let t: TestApi;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  t = await startTestApi();
  alice = await t.user();
  bob = await t.user();
});
afterAll(async () => {
  await t?.close();
});

const read = (u: TestUser) => t.request<WebhookSecretDto>('GET', '/api/v1/webhooks/secret', { headers: u.auth });
const rotate = (u: TestUser) =>
  t.request<WebhookSecretDto>('POST', '/api/v1/webhooks/secret/rotate', { headers: u.auth });

describe('GET /api/v1/webhooks/secret', () => {
  it('creates the caller’s secret on first read and answers the same one after, never cached', async () => {
    const first = await read(alice);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const body = webhookSecretSchema.parse(first.body);
    expect(body.secret).toMatch(/^whsec_/);
    expect(Buffer.from(body.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(body.previous_expires_at).toBeNull();
    expect(Math.abs(Date.parse(body.created_at) - Date.now())).toBeLessThan(60_000);
    expect((await read(alice)).body).toEqual(body);
  });

  it('answers each caller their own secret', async () => {
    const mine = (await read(alice)).body.secret;
    const theirs = (await read(bob)).body.secret;
    expect(theirs).toMatch(/^whsec_/);
    expect(theirs).not.toBe(mine);
    const row = await t.database.db
      .selectFrom('webhook_secrets')
      .select('secret')
      .where('user_id', '=', bob.id)
      .executeTakeFirstOrThrow();
    expect(row.secret).toBe(theirs);
  });

  it('answers 401 problem+json without a token, and with a bad one', async () => {
    const anonymous = await t.request('GET', '/api/v1/webhooks/secret');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(anonymous.text).not.toMatch(/whsec_/);
    const forged = await t.request('GET', '/api/v1/webhooks/secret', { headers: { authorization: 'Bearer nope' } });
    expect(forged.status).toBe(401);
  });

  it('answers 401 when the account behind a valid token is gone', async () => {
    const gone = await t.user();
    await t.database.db.deleteFrom('users').where('id', '=', gone.id).execute();
    expect((await read(gone)).status).toBe(401);
  });
});

describe('POST /api/v1/webhooks/secret/rotate', () => {
  it('answers a new secret; the replaced one stays valid for 24 h, and a read shows the new one', async () => {
    const carol = await t.user();
    const before = (await read(carol)).body;
    const res = await rotate(carol);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const after = webhookSecretSchema.parse(res.body);
    expect(after.secret).not.toBe(before.secret);
    expect(after.secret).toMatch(/^whsec_/);
    const left = Date.parse(after.previous_expires_at!) - Date.now();
    expect(left).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(left).toBeLessThanOrEqual(24 * 3600_000 + 60_000);
    expect((await read(carol)).body).toEqual(after);
    // the previous secret is not answered: the receiver already has it
    expect(JSON.stringify(res.body)).not.toContain(before.secret);
  });

  it('changes only the caller’s secret', async () => {
    const bobsBefore = (await read(bob)).body.secret;
    await rotate(alice);
    expect((await read(bob)).body.secret).toBe(bobsBefore);
  });

  it('answers 401 without a token and changes nothing', async () => {
    const before = (await read(alice)).body;
    const res = await t.request('POST', '/api/v1/webhooks/secret/rotate');
    expect(res.status).toBe(401);
    expect((await read(alice)).body).toEqual(before);
  });

  it('works for an admin too (each account has its own secret)', async () => {
    const admin = await t.user('admin');
    const res = await rotate(admin);
    expect(res.status).toBe(200);
    expect(res.body.secret).not.toBe((await read(alice)).body.secret);
  });
});

describe('OpenAPI', () => {
  it('documents both routes with the WebhookSecret schema and bearer auth', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths['/api/v1/webhooks/secret']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/v1/webhooks/secret/rotate']?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.schemas.WebhookSecret).toBeDefined();
  });
});
