// `npm start` as a newcomer runs it: from a fresh copy of this checkout inside a 0700 directory (as
// root, the Postgres service user cannot enter it), on ports of its own, as real processes.
import { chmodSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { externalDataDir } from '../../scripts/bootstrap/services.ts';

import {
  copyCheckout,
  discardCheckout,
  isolatedEnv,
  isolatedPorts,
  processesOf,
  runBootstrap,
  type Run,
} from './checkout.ts';

const isRoot = process.getuid?.() === 0;

// Real processes starting real servers: minutes, not seconds, on a loaded CI machine.
describe('npm start from a fresh checkout in a 0700 directory', { timeout: 240_000 }, () => {
  let checkout: string;
  let env: NodeJS.ProcessEnv;
  let ports: Record<string, number>;

  const start = (command = 'start'): Run => runBootstrap(checkout, env, [command]);
  const leftOver = () => processesOf(checkout);
  const stop = async (run: Run) => {
    run.child.kill('SIGINT');
    return run.exited;
  };
  const readyz = async () => (await fetch(`http://127.0.0.1:${ports['PORT']}/readyz`)).status;

  beforeAll(async () => {
    checkout = copyCheckout();
    ports = await isolatedPorts();
    env = isolatedEnv(ports);
  });

  afterAll(() => {
    discardCheckout(checkout);
  });

  it('is ready, with Postgres data where its service user can reach them, and Ctrl-C leaves nothing', async () => {
    const run = start();
    await run.waitFor(/Ctrl-C stops everything/);
    expect(await readyz()).toBe(200);
    // without SMTP_URL, mail is caught locally: the line says where, and the worker sends there
    const mailDir = join(checkout, '.data', 'mail');
    expect(run.output()).toContain(`mail     captured in ${mailDir} (one .eml file each; nothing leaves this machine)`);
    expect(run.output()).toContain(`SMTP_URL=smtp://127.0.0.1:${ports['RATEWIRE_SMTP_PORT']}`);
    const email = `first-run-${process.pid}@example.test`;
    const registered = await fetch(`http://127.0.0.1:${ports['PORT']}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'first-run-password' }),
    });
    expect(registered.status).toBe(201);
    const mailed = async () => {
      for (let i = 0; i < 300; i++) {
        const files = existsSync(mailDir) ? readdirSync(mailDir).filter((f) => f.endsWith('.eml')) : [];
        // as a mail client reads it: quoted-printable soft breaks joined, =XX decoded
        const text = files
          .map((f) => readFileSync(join(mailDir, f), 'latin1'))
          .map((t) =>
            t.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
          )
          .find((t) => t.includes(email));
        if (text) return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no mail to ${email} in ${mailDir}:\n${run.output()}`);
    };
    // its link points at this api (the port npm start gave it), as PUBLIC_BASE_URL is not set
    expect(await mailed()).toMatch(
      new RegExp(`\nhttp://localhost:${ports['PORT']}/account/confirm\\?token=[A-Za-z0-9_-]{43}\r?\n`),
    );
    if (isRoot) {
      // The service user cannot enter a 0700 directory of root's: its data went to /var/lib/ratewire.
      expect(run.output()).toContain(
        `postgres: up on :${ports['RATEWIRE_PG_PORT']} (data in ${externalDataDir(checkout)}`,
      );
      expect(readFileSync(join(externalDataDir(checkout), 'checkout'), 'utf8').trim()).toBe(checkout);
    }
    expect(await stop(run)).toBe(130);
    expect(leftOver()).toEqual([]);
  });

  it('npm run services keeps the services up until Ctrl-C, then stops them', async () => {
    const run = start('services');
    await run.waitFor(/services are up; Ctrl-C stops them/);
    expect(run.output()).toContain(`SMTP_URL=smtp://127.0.0.1:${ports['RATEWIRE_SMTP_PORT']}`);
    expect(run.output()).toContain(`mail     captured in ${join(checkout, '.data', 'mail')}`);
    // nothing but the wait for a signal holds it: it must not exit on its own
    await new Promise((r) => setTimeout(r, 2000));
    expect(run.child.exitCode).toBeNull();
    expect(leftOver().filter((p) => /redis-server|nats-server|\/postgres -D /.test(p.cmd))).toHaveLength(3);
    expect(await stop(run)).toBe(130);
    expect(leftOver()).toEqual([]);
  });

  it('after a kill -9 of the bootstrap, starts again with one of each service and no stray app', async () => {
    const first = start();
    await first.waitFor(/Ctrl-C stops everything/);
    first.child.kill('SIGKILL');
    await first.exited;
    // The apps and the services outlive a bootstrap killed outright.
    expect(leftOver().length).toBeGreaterThan(3);

    const second = start();
    await second.waitFor(/Ctrl-C stops everything/);
    expect(second.output()).toMatch(/api: stopping pid \d+, left running by a previous run/);
    expect(second.output()).toMatch(/postgres: adopting the one a previous run left/);
    expect(second.output()).toMatch(/redis: adopting the one a previous run left/);
    expect(second.output()).toMatch(/nats: adopting the one a previous run left/);
    expect(await readyz()).toBe(200);
    // a server's own children are not servers: Postgres forks a backend for each new connection, and
    // until it names itself ("postgres: …") its command line is the postmaster's
    const mine = leftOver();
    const count = (re: RegExp) =>
      mine.filter((p) => re.test(p.cmd) && !mine.some((parent) => parent.pid === p.ppid && re.test(parent.cmd))).length;
    expect(count(/\/postgres -D /)).toBe(1);
    expect(count(/redis-server/)).toBe(1);
    expect(count(/nats-server/)).toBe(1);
    for (const app of ['api', 'worker', 'notifier']) expect(count(new RegExp(`apps/${app}/src/main\\.ts`))).toBe(1);

    expect(await stop(second)).toBe(130);
    expect(leftOver()).toEqual([]);
  });

  it('names a busy port, its holder and the setting that moves it, and leaves nothing running', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(ports['RATEWIRE_REDIS_PORT'], '127.0.0.1', r));
    try {
      const run = start();
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`redis: port ${ports['RATEWIRE_REDIS_PORT']} is taken by pid ${process.pid} (`);
      expect(run.output()).toContain('RATEWIRE_REDIS_PORT=<port> npm start');
      // Postgres and NATS were starting beside it: both were stopped.
      expect(leftOver()).toEqual([]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('shows why Postgres cannot start when its data directory is unreadable, and leaves nothing running', async () => {
    const pgdata = join(isRoot ? externalDataDir(checkout) : join(checkout, '.data'), 'postgres', 'data');
    expect(existsSync(join(pgdata, 'PG_VERSION'))).toBe(true);
    chmodSync(pgdata, 0o000);
    try {
      const run = start();
      expect(await run.exited).toBe(1);
      if (isRoot) {
        // Postgres (as its service user) said why, in its own words, and the log it wrote is named.
        expect(run.output()).toMatch(/postgres exited \(\d+\) while starting\. Its last lines \(.*postgres\.log\):/);
        expect(run.output()).toMatch(/Permission denied|has invalid permissions/);
      } else {
        expect(run.output()).toContain(`postgres: cannot read its data directory ${pgdata} (EACCES)`);
      }
      expect(run.output()).toContain('what to do:');
      expect(leftOver()).toEqual([]);
    } finally {
      chmodSync(pgdata, 0o700);
    }
  });
});
