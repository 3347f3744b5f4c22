// A callback receiver on 127.0.0.1 that records every request, for the exchange-job callback tests.
// Import as `@ratewire/testkit/callback-receiver`.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  headers: IncomingHttpHeaders;
  method: string;
  path: string;
  body: string;
  at: number;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook` */
  url: string;
  port: number;
  received: ReceivedCallback[];
  /** Statuses to answer, one per request (a 3xx also sends `Location: /redirected`); then `status`. */
  script: number[];
  /** Answered once `script` is used up (default 200). */
  status: number;
  /** Holds each answer this long after the request arrived (a slow receiver; default 0). */
  delayMs: number;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** `port` 0 picks a free one; after stop(), start() reuses it. */
export async function startReceiver(port = 0): Promise<Receiver> {
  let server: Server | null = null;
  const receiver: Receiver = {
    url: '',
    port,
    received: [],
    script: [],
    status: 200,
    delayMs: 0,
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
          receiver.received.push({
            headers: req.headers,
            method: req.method ?? '',
            path: req.url ?? '',
            body,
            at: Date.now(),
          });
          res.statusCode = receiver.script.shift() ?? receiver.status;
          if (res.statusCode >= 300 && res.statusCode < 400) res.setHeader('location', '/redirected');
          if (receiver.delayMs > 0) setTimeout(() => res.end(), receiver.delayMs);
          else res.end();
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
