// The notifier as a real process against a Redis and a NATS that require credentials: it logs in
// with those of REDIS_URL and NATS_URL, says which setting is wrong when they are missing, never
// prints a secret, and keeps its health port on loopback unless HEALTH_HOST says otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runWithBadSettings, spawnApp, type AppProcess } from '@ratewire/testkit';
import { startPrivateNats, startPrivateRedis, type PrivateServer } from '@ratewire/testkit/private-servers';

const REDIS_PASSWORD = 'notifier-redis-secret-3e9a';
const NATS_PASSWORD = 'notifier-nats-secret-c47d';

let redis: PrivateServer;
let nats: PrivateServer;
const running: AppProcess[] = [];

beforeAll(async () => {
  // one at a time, so that whatever started is closed by afterAll even when a later start fails
  redis = await startPrivateRedis({ auth: { user: 'notifier', password: REDIS_PASSWORD } });
  nats = await startPrivateNats({ auth: { user: 'notifier', password: NATS_PASSWORD } });
});
afterAll(async () => {
  for (const p of running) {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
  await redis?.close();
  await nats?.close();
});

function start(env: Record<string, string>): AppProcess {
  const proc = spawnApp('notifier', { HEALTH_PORT: '0', LOG_LEVEL: 'debug', ...env });
  running.push(proc);
  return proc;
}

async function health(proc: AppProcess): Promise<{ address: string; port: number }> {
  const line = await proc.waitForLine(/"msg":"notifier started"/, 30_000);
  return (JSON.parse(line) as { health: { address: string; port: number } }).health;
}

const noSecrets = (proc: AppProcess) => {
  const text = proc.output.join('\n');
  expect(text).not.toContain(REDIS_PASSWORD);
  expect(text).not.toContain(NATS_PASSWORD);
};

describe('notifier process with credentials', () => {
  it('connects with the user and password in REDIS_URL and NATS_URL, ready on loopback only', async () => {
    const proc = start({ REDIS_URL: redis.authUrl, NATS_URL: nats.authUrl });
    const { address, port } = await health(proc);
    expect(address).toBe('127.0.0.1');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    noSecrets(proc);
  });

  it('listens on the HEALTH_HOST it is given', async () => {
    const proc = start({ REDIS_URL: redis.authUrl, NATS_URL: nats.authUrl, HEALTH_HOST: '0.0.0.0' });
    expect((await health(proc)).address).toBe('0.0.0.0');
  });

  it('without Redis credentials: waits for Redis, logging an error that names REDIS_URL', async () => {
    const proc = start({ REDIS_URL: redis.url, NATS_URL: nats.authUrl });
    await proc.waitForLine(/"err":"Redis wants a user and password: put them in REDIS_URL.*"msg":"redis error"/);
    expect(proc.output.some((l) => l.includes('"msg":"notifier started"'))).toBe(false);
    noSecrets(proc);
  });

  it('with a wrong NATS password: stops at start-up naming NATS_URL, the password not printed', async () => {
    const wrong = `nats://notifier:${NATS_PASSWORD}-wrong@127.0.0.1:${nats.port}`;
    const proc = start({ REDIS_URL: redis.authUrl, NATS_URL: wrong });
    expect(await proc.exited).toBe(78);
    expect(proc.output).toContainEqual(expect.stringMatching(/^notifier: NATS refused the connection .*in NATS_URL$/));
    noSecrets(proc);
  });

  it('refuses a credentials file it cannot read, naming the key', async () => {
    const { code, output } = await runWithBadSettings('notifier', { NATS_NKEY_SEED_FILE: '/nonexistent/user.nk' });
    expect(code).toBe(78);
    expect(output.join('\n')).toMatch(
      /invalid setting NATS_NKEY_SEED_FILE: cannot read \/nonexistent\/user\.nk \(ENOENT\)/,
    );
  });

  it('refuses a HEALTH_HOST that is no address and names the key', async () => {
    const { code, output } = await runWithBadSettings('notifier', { HEALTH_HOST: 'not a host' });
    expect(code).toBe(78);
    expect(output.join('\n')).toMatch(/invalid setting HEALTH_HOST/);
  });
});
