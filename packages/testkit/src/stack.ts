// The whole service as its clients meet it: api, worker and notifier as real processes over a
// database, Redis and NATS of their own, the worker polling the feed replay server and mailing to
// a local SMTP mailbox. For client tests (the CLI, the web console) that may only use the public
// surface: HTTP, WebSocket, NATS subjects.
import { randomUUID } from 'node:crypto';

import { insertJobsWithOutbox } from '@ratewire/db';
import { startMailbox, type Mailbox } from '@ratewire/mailbox';

import { createTestDatabase, type TestDatabase } from './database.ts';
import { startPrivateNats, startPrivateRedis, type PrivateServer } from './private-servers.ts';
import { freePort, spawnApp, type AppProcess } from './process.ts';
import { startReplayServer, type ReplayServer, type ReplayServerOptions } from './replay/index.ts';
import { waitFor } from './wait.ts';

export interface StackUser {
  email: string;
  password: string;
  token: string;
  id: string;
}

export interface Stack {
  /** The api's origin, e.g. `http://127.0.0.1:41234`. */
  url: string;
  database: TestDatabase;
  redis: PrivateServer;
  nats: PrivateServer;
  replay: ReplayServer;
  mailbox: Mailbox;
  api: AppProcess;
  worker: AppProcess;
  notifier: AppProcess;
  /** The settings every app of the stack was started with. */
  env: Record<string, string>;
  /** Registers an account over HTTP and logs it in. */
  user(): Promise<StackUser>;
  /**
   * Queues a job for `userId` whose stored request the worker cannot compute (its bills are not
   * bills), as a damaged row would be: the worker's real path to a failed job, which no request
   * that passes the contract can take. Answers the job id.
   */
  unprocessableJob(userId: string): Promise<string>;
  /** Stops the api (SIGTERM) and starts it again on the same port; resolves once it listens. */
  restartApi(): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Extra settings for every app. */
  env?: Record<string, string>;
  /** How the feed replay server starts (e.g. other Binance fixtures, a fixtures dir of the test's own). */
  replay?: ReplayServerOptions;
}

const READY = {
  api: /"msg":"api listening"/,
  worker: /"msg":"consuming exchange jobs"/,
  notifier: /"msg":"notifier started"/,
} as const;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const [database, redis, nats, replay, mailbox, port] = await Promise.all([
    createTestDatabase(),
    startPrivateRedis(),
    startPrivateNats(),
    startReplayServer(options.replay),
    startMailbox(),
    freePort(),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    NATS_URL: nats.url,
    PORT: String(port),
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    CBR_BASE_URL: replay.url,
    BINANCE_BASE_URL: replay.url,
    BINANCE_STREAM: 'off',
    CBR_POLL_INTERVAL_MS: '86400000',
    BINANCE_POLL_INTERVAL_MS: '86400000',
    SMTP_URL: mailbox.url,
    PUBLIC_BASE_URL: url,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1,localhost',
    // restartApi() and close() stop the api at once unless a test drains
    SHUTDOWN_DRAIN_MS: '0',
    ...options.env,
  };
  const start = (app: keyof typeof READY) => {
    const proc = spawnApp(app, env);
    return proc.waitForLine(READY[app], 30_000).then(() => proc);
  };
  const procs: AppProcess[] = [];
  const stop = async (proc: AppProcess) => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
    await proc.exited;
  };
  let api: AppProcess;
  let worker: AppProcess;
  let notifier: AppProcess;
  try {
    [api, worker, notifier] = await Promise.all([start('api'), start('worker'), start('notifier')]);
    procs.push(api, worker, notifier);
    // the worker's first polls store the replayed rates
    await waitFor(
      async () => {
        const [cbr, binance] = await Promise.all([
          fetch(`${url}/api/v1/rates/cbr/latest`),
          fetch(`${url}/api/v1/rates/binance/BTCUSDT`),
        ]);
        return cbr.ok && binance.ok;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (err) {
    await Promise.all(procs.map(stop));
    await Promise.all([database.drop(), redis.close(), nats.close(), replay.close(), mailbox.close()]);
    throw err;
  }
  const stack: Stack = {
    url,
    database,
    redis,
    nats,
    replay,
    mailbox,
    api,
    worker,
    notifier,
    env,
    async user() {
      const email = `${randomUUID()}@cli.test`;
      const password = `pw-${randomUUID()}`;
      const reg = await fetch(`${url}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      if (reg.status !== 201) throw new Error(`register: HTTP ${reg.status} ${await reg.text()}`);
      const { id } = (await reg.json()) as { id: string };
      const login = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      if (login.status !== 200) throw new Error(`login: HTTP ${login.status} ${await login.text()}`);
      const { access_token: token } = (await login.json()) as { access_token: string };
      return { email, password, token, id };
    },
    async unprocessableJob(userId) {
      const [job] = await insertJobsWithOutbox(database.db, [
        {
          userId,
          requestId: `unprocessable-${randomUUID()}`,
          bodyHash: 'unprocessable',
          request: { exchange_rate: '1', bills: 'not bills' },
          currency: null,
          rate: '1',
          callbackUrl: null,
        },
      ]);
      if (!job) throw new Error('the unprocessable job was not inserted');
      return job.id;
    },
    async restartApi() {
      await stop(stack.api);
      procs.splice(procs.indexOf(stack.api), 1);
      stack.api = await start('api');
      procs.push(stack.api);
    },
    async close() {
      await Promise.all(procs.map(stop));
      await Promise.all([database.drop(), redis.close(), nats.close(), replay.close(), mailbox.close()]);
    },
  };
  return stack;
}
