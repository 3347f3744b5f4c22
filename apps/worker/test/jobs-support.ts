// Set-up for the exchange-job and callback tests: jobs seeded straight into a test database, and a
// local callback receiver on 127.0.0.1 that records every request.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Database } from '@ratewire/db';

export async function seedUser(db: Database): Promise<string> {
  const row = await db
    .insertInto('users')
    .values({ email: `${randomUUID()}@jobs.test`, name: null, password_hash: 'x' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export const SEED_REQUEST = {
  exchange_rate: '75.5',
  bills: [
    { denomination_id: 1, denomination: '10', count: 5 },
    { denomination_id: 2, denomination: '20', count: 3 },
  ],
};

/** Inserts queued jobs as the api would (without the outbox); returns their ids in order. */
export async function seedJobs(
  db: Database,
  userId: string,
  n: number,
  options: { callbackUrl?: string | null; request?: unknown; prefix?: string } = {},
): Promise<string[]> {
  const prefix = options.prefix ?? randomUUID();
  const rows = await db
    .insertInto('exchange_jobs')
    .values(
      Array.from({ length: n }, (_, i) => ({
        user_id: userId,
        request_id: `${prefix}-${i}`,
        body_hash: 'h',
        request: JSON.stringify({ request_id: `${prefix}-${i}`, ...((options.request as object) ?? SEED_REQUEST) }),
        currency: null,
        rate: '75.5',
        callback_url: options.callbackUrl ?? null,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export interface ReceivedCallback {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
}

export interface Receiver {
  url: string;
  port: number;
  received: ReceivedCallback[];
  /** Statuses to answer, one per request, then 200. */
  script: number[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  let server: Server | null = null;
  const receiver: Receiver = {
    url: '',
    port,
    received: [],
    script: [],
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    },
    async start() {
      if (server) return;
      const s = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          receiver.received.push({ headers: req.headers, body, path: req.url ?? '' });
          res.statusCode = receiver.script.shift() ?? 200;
          if (res.statusCode >= 300 && res.statusCode < 400) res.setHeader('location', '/redirected');
          res.end();
        });
      });
      await new Promise<void>((r) => s.listen(receiver.port, '127.0.0.1', () => r()));
      server = s;
      receiver.port = (s.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
    },
  };
  await receiver.start();
  return receiver;
}
