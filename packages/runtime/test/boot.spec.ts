// The connections a process makes through boot.ts close themselves in their phase when it shuts down.
// Runs against the Redis and NATS that `npm test` starts (or the ones the environment names).
import type { AddressInfo } from 'node:net';

import { describe, expect, it, vi } from 'vitest';

import { notifierSettingsSchema, type NotifierSettings } from '@ratewire/contracts';

import { connectNats, connectRedis, serveHealth, type BootedProcess } from '../src/boot.ts';
import { createLogger } from '../src/logger.ts';
import { parseSettings } from '../src/settings.ts';
import { Shutdown } from '../src/shutdown.ts';

/** A booted process without bootProcess's signal handlers, which would outlive the test. */
function booted(): BootedProcess<NotifierSettings> {
  const settings = parseSettings(notifierSettingsSchema, { ...process.env, HEALTH_PORT: '0' });
  const log = createLogger('boot-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  return { app: 'boot-test', settings, log, shutdown: new Shutdown(log) };
}

describe('a booted process', () => {
  it('quits its Redis connections and drains NATS when it shuts down, the health port first', async () => {
    const proc = booted();
    const redis = connectRedis(proc, 'boot-test');
    const subscriber = connectRedis(proc, 'boot-test-sub', 'subscriber');
    const nats = await connectNats(proc, 'boot-test');
    const health = await serveHealth(proc, { always: () => Promise.resolve({ ok: true }) });

    const { port } = health.address() as AddressInfo;
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok', checks: { always: { ok: true } } }]);
    expect(await redis.ping()).toBe('PONG');

    const closed: string[] = [];
    const note = (name: string) => void closed.push(name);
    const closeHealth = health.close.bind(health);
    vi.spyOn(health, 'close').mockImplementationOnce((done) => (note('health'), closeHealth(done)));
    const drain = nats.drain.bind(nats);
    vi.spyOn(nats, 'drain').mockImplementationOnce(() => (note('nats'), drain()));
    for (const [name, client] of [
      ['redis', redis],
      ['subscriber', subscriber],
    ] as const) {
      const quit = client.quit.bind(client);
      vi.spyOn(client, 'quit').mockImplementationOnce(() => (note(name), quit()));
    }
    await proc.shutdown.run('test');

    // phases in order (accepting → nats → redis); within one, the step added last goes first
    expect(closed).toEqual(['health', 'nats', 'subscriber', 'redis']);
    expect(health.listening).toBe(false);
    expect(nats.isClosed()).toBe(true);
    const ended = (c: typeof redis) => new Promise<void>((r) => (c.status === 'end' ? r() : c.once('end', () => r())));
    await Promise.all([ended(redis), ended(subscriber)]);
  });
});
