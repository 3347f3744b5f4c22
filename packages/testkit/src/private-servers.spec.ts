// Redis and NATS that require credentials: @ratewire/runtime's connections log in with the ones the
// settings carry, and without them fail with an error naming the setting, never printing a secret.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { nkeys as untypedNkeys } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createNats, createRedis, maskUrl, redisCheck, type RedisClient } from '@ratewire/runtime';

import { startPrivateNats, startPrivateRedis, type PrivateServer } from './private-servers.ts';

const REDIS_PASSWORD = 'redis-secret-9f2c4e';
const ACL_PASSWORD = 'acl-secret-71b0d3';
const NATS_PASSWORD = 'nats-secret-5a8e1c';
const SECRETS = [REDIS_PASSWORD, ACL_PASSWORD, NATS_PASSWORD];

// the nkeys.js types do not reach this package; the two calls used here
const nkeys = untypedNkeys as unknown as { createUser(): { getPublicKey(): string; getSeed(): Uint8Array } };

/** A logger whose lines are kept, to look for secrets in them. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger('auth-test', 'debug', stream), lines };
}

let redisPass: PrivateServer;
let redisAcl: PrivateServer;
let natsUser: PrivateServer;
let natsNkey: PrivateServer;
let dir: string;
const user = nkeys.createUser();
const clients: RedisClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rw-auth-'));
  // one at a time, so that whatever started is closed by afterAll even when a later start fails
  redisPass = await startPrivateRedis({ auth: { password: REDIS_PASSWORD } });
  redisAcl = await startPrivateRedis({ auth: { user: 'ratewire', password: ACL_PASSWORD } });
  natsUser = await startPrivateNats({ auth: { user: 'ratewire', password: NATS_PASSWORD } });
  natsNkey = await startPrivateNats({ auth: { nkey: user.getPublicKey() } });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all([redisPass, redisAcl, natsUser, natsNkey].map((s) => s?.close()));
  rmSync(dir, { recursive: true, force: true });
});

const redis = (url: string, log = capture().log) => {
  const r = createRedis(url, log, 'auth-test', { maxRetriesPerRequest: 1 });
  clients.push(r);
  return r;
};

describe('Redis with requirepass or an ACL user', () => {
  it('answers a client with the password in REDIS_URL (redis://:password@ and redis://user:password@)', async () => {
    expect(redisPass.authUrl).toBe(`redis://:${REDIS_PASSWORD}@127.0.0.1:${redisPass.port}`);
    expect(await redis(redisPass.authUrl).ping()).toBe('PONG');
    expect(await redis(redisAcl.authUrl).ping()).toBe('PONG');
    expect(await redisCheck(redis(redisAcl.authUrl))).toMatchObject({ ok: true });
  });

  it('refuses a client without the password, with an error naming REDIS_URL and no secret logged', async () => {
    for (const url of [redisPass.url, redisAcl.url]) {
      const { log, lines } = capture();
      const check = await redisCheck(redis(url, log));
      expect(check).toMatchObject({ ok: false, error: expect.stringContaining('REDIS_URL') });
      expect(check.error).toMatch(/wants a user and password/);
      expect(lines.find((l) => l.includes('"msg":"redis error"'))).toMatch(/"err":"Redis wants .*REDIS_URL/);
    }
  });

  it('refuses a wrong password, naming REDIS_URL, and logs the URL with its password masked', async () => {
    const wrong = `redis://ratewire:not-the-${ACL_PASSWORD}@127.0.0.1:${redisAcl.port}`;
    const { log, lines } = capture();
    const check = await redisCheck(redis(wrong, log));
    expect(check.error).toMatch(/refused the user and password in REDIS_URL/);
    const text = lines.join('\n');
    expect(text).toContain(`redis://ratewire:***@127.0.0.1:${redisAcl.port}`);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });
});

describe('NATS with a user and password', () => {
  it('connects with the credentials in NATS_URL and can use JetStream', async () => {
    const { log, lines } = capture();
    const nc = await createNats({ NATS_URL: [natsUser.authUrl] }, log, 'auth-test');
    const jsm = await nc.jetstreamManager();
    expect((await jsm.getAccountInfo()).limits).toBeDefined();
    await nc.close();
    for (const secret of SECRETS) expect(lines.join('\n')).not.toContain(secret);
  });

  it('refuses a client without credentials or with a wrong password, naming NATS_URL', async () => {
    const { log, lines } = capture();
    await expect(createNats([natsUser.url], log, 'auth-test')).rejects.toThrow(
      /NATS refused the connection .*put them in NATS_URL \(nats:\/\/user:password@host:port\)/,
    );
    const wrong = `nats://ratewire:not-the-${NATS_PASSWORD}@127.0.0.1:${natsUser.port}`;
    await expect(createNats([wrong], log, 'auth-test')).rejects.toThrow(
      /NATS refused the connection .*check the user and password \(or token\) in NATS_URL/,
    );
    const text = lines.join('\n');
    expect(text).toMatch(/"msg":"nats connection refused"/);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });
});

describe('NATS with an nkey user', () => {
  it('connects with the nkey in NATS_NKEY_SEED_FILE and is refused without it, naming the setting', async () => {
    const seedFile = join(dir, 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
    const nc = await createNats({ NATS_URL: [natsNkey.url], NATS_NKEY_SEED_FILE: seedFile }, capture().log, 'nk');
    await nc.flush();
    await nc.close();

    const other = join(dir, 'other.nk');
    writeFileSync(other, new TextDecoder().decode(nkeys.createUser().getSeed()));
    await expect(
      createNats({ NATS_URL: [natsNkey.url], NATS_NKEY_SEED_FILE: other }, capture().log, 'nk'),
    ).rejects.toThrow(/check the nkey seed in NATS_NKEY_SEED_FILE/);
    await expect(createNats([natsNkey.url], capture().log, 'nk')).rejects.toThrow(
      /NATS_NKEY_SEED_FILE or NATS_CREDS_FILE/,
    );
    await expect(
      createNats({ NATS_URL: [natsNkey.url], NATS_NKEY_SEED_FILE: join(dir, 'missing.nk') }, capture().log, 'nk'),
    ).rejects.toThrow(/^NATS_NKEY_SEED_FILE: cannot read .*missing\.nk \(ENOENT\)$/);
  });
});

describe('maskUrl', () => {
  it('hides passwords and NATS tokens, keeps the rest', () => {
    expect(maskUrl('redis://user:pw@redis:6379/0')).toBe('redis://user:***@redis:6379/0');
    expect(maskUrl('rediss://:pw@redis:6380')).toBe('rediss://:***@redis:6380');
    expect(maskUrl('nats://s3cr3t-token@nats:4222')).toBe('nats://***@nats:4222');
    expect(maskUrl('nats://nats:4222')).toBe('nats://nats:4222');
    expect(maskUrl('redis+cluster://app:p%40w@a:7000,b:7001')).toBe('redis+cluster://app:***@a:7000,b:7001');
    expect(maskUrl('rediss+cluster://:pw@a:7000')).toBe('rediss+cluster://:***@a:7000');
    expect(maskUrl('redis+cluster://a:7000,b:7001')).toBe('redis+cluster://a:7000,b:7001');
  });
});

describe('a process that exits without closing its private servers', () => {
  it('takes them with it', () => {
    const script = `import { startPrivateNats } from ${JSON.stringify(join(import.meta.dirname, 'private-servers.ts'))};
const s = await startPrivateNats();
process.stdout.write(String(s.port));
process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const port = Number(r.stdout);
    expect(port).toBeGreaterThan(0);
    const left = spawnSync('pgrep', ['-f', `nats-server .*-p ${port} `], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
  });
});
