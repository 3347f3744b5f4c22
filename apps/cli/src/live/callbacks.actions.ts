// `callbacks listen`: an HTTP receiver on this machine. Each request's Standard Webhooks signature
// is checked with the user's webhook secret (the check @ratewire/webhooks gives the signer and the
// issuer); verified callbacks are forwarded as they came, and the sender gets the forward's status.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { summariseCallbackBody } from '@ratewire/contracts/catalogue';
import { webhookSecretSchema } from '@ratewire/contracts/webhooks.schemas';
import { verifyWebhook, webhookSecretKey } from '@ratewire/webhooks';

import type { Action } from '../core/command.ts';
import type { Ctx } from '../core/context.ts';
import { CliError, EXIT, usageError } from '../core/exit-codes.ts';
import { DEFAULT_LISTEN_PORT } from './callbacks.command.ts';
import { clock, cut, oneLine, paint, parseCount, readPayload } from './lines.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
/** How far a `webhook-timestamp` may be from this clock (Standard Webhooks' tolerance). */
export const TOLERANCE_S = 5 * 60;
const FORWARD_TIMEOUT_MS = 10_000;
/** Hop-by-hop and framing headers: the forward sets its own. */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'expect',
]);

export type Check = { ok: true } | { ok: false; reason: string };

/** A callback's signature and timestamp, checked as Standard Webhooks says, with `key` at `nowS`. */
export function checkSignature(
  key: Uint8Array,
  headers: IncomingMessage['headers'],
  body: string,
  nowS = Math.floor(Date.now() / 1000),
): Check {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string')
    return { ok: false, reason: 'no webhook-id, webhook-timestamp and webhook-signature headers' };
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not Unix seconds' };
  const off = Math.abs(nowS - Number(timestamp));
  if (off > TOLERANCE_S)
    return {
      ok: false,
      reason: `webhook-timestamp is ${off.toString()} s off this clock (at most ${TOLERANCE_S.toString()} s)`,
    };
  if (!verifyWebhook(key, id, timestamp, body, signature))
    return { ok: false, reason: 'the signature does not match the webhook secret' };
  return { ok: true };
}

function parsePort(value: unknown): number {
  if (value === undefined) return DEFAULT_LISTEN_PORT;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw usageError(`--port: expected a port number, not ${JSON.stringify(text)}`);
  return port;
}

function parseForward(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`--forward-to: ${JSON.stringify(value)} is not a URL`, 'e.g. http://localhost:3000/hooks');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`--forward-to: ${JSON.stringify(value)} is not an http(s) URL`);
  return url;
}

/** The HMAC key: from --secret, or the account's secret read from the service. */
async function secretKey(ctx: Ctx, secret: unknown): Promise<Uint8Array> {
  let value: string;
  if (typeof secret === 'string') value = secret;
  else {
    if (!ctx.target().credential)
      throw new CliError(
        'not logged in: the webhook secret to verify with is read from your account',
        EXIT.auth,
        'run `ratewire login` (or set RATEWIRE_TOKEN), or give the secret with --secret whsec_…',
      );
    value = (await ctx.api().json(webhookSecretSchema, 'GET', '/api/v1/webhooks/secret', { auth: 'required' })).secret;
  }
  try {
    return webhookSecretKey(value);
  } catch (err) {
    throw usageError(`--secret: ${(err as Error).message}`);
  }
}

interface Received {
  method: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** The request's body, or null when it grows past MAX_BODY_BYTES. */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return resolve(null);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.pause();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

type Forwarded = { status: number } | { error: string };

async function forward(to: URL, got: Received, signal: AbortSignal): Promise<Forwarded> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(got.headers)) {
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  try {
    const res = await fetch(to, {
      method: got.method,
      headers,
      body: got.method === 'GET' || got.method === 'HEAD' ? undefined : new Uint8Array(got.body),
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]),
    });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}

export const listen: Action = async (ctx, _args, opts) => {
  const forwardTo = parseForward(opts['forwardTo']);
  const port = parsePort(opts['port']);
  const host = typeof opts['host'] === 'string' ? opts['host'] : '127.0.0.1';
  const count = parseCount(opts['count']);
  const key = await secretKey(ctx, opts['secret']);
  const stopping = new AbortController();
  let handled = 0;

  const report = (entry: {
    verified: boolean;
    type: string | null;
    summary: string;
    webhookId: string | null;
    forward?: Forwarded;
    reason?: string;
  }) => {
    const time = new Date().toISOString();
    if (ctx.json) {
      const { webhookId, ...rest } = entry;
      ctx.print(JSON.stringify({ time, webhook_id: webhookId, ...rest }));
      return;
    }
    const state = entry.verified ? paint(ctx.colour, '32', 'verified') : paint(ctx.colour, '31', 'REJECTED');
    const sent =
      entry.forward === undefined
        ? ''
        : 'status' in entry.forward
          ? `  → ${entry.forward.status.toString()}`
          : `  → failed: ${oneLine(entry.forward.error)}`;
    ctx.print(
      `${paint(ctx.colour, '2', clock(time))}  ${state}  ${oneLine(entry.type ?? '-')}  ${cut(oneLine(entry.summary))}${sent}`,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const answer = (status: number) => {
      res.statusCode = status;
      res.setHeader('connection', 'close');
      res.end();
    };
    const method = req.method ?? 'GET';
    const webhookId = typeof req.headers['webhook-id'] === 'string' ? req.headers['webhook-id'] : null;
    const reject = (status: number, reason: string) => {
      report({ verified: false, type: null, summary: reason, webhookId, reason });
      answer(status);
    };
    if (method !== 'POST' && method !== 'PUT') return reject(405, `${method} ${req.url ?? '/'} is not a callback`);
    const body = await readBody(req);
    if (body === null) return reject(413, 'the body is over 1 MiB');
    const text = body.toString('utf8');
    const check = checkSignature(key, req.headers, text);
    if (!check.ok) return reject(400, check.reason);
    const read = readPayload(text);
    const { type, summary } = read ? summariseCallbackBody(read.exact) : { type: null, summary: `(not JSON) ${text}` };
    if (!forwardTo) {
      report({ verified: true, type, summary, webhookId });
      return answer(200);
    }
    const forwarded = await forward(forwardTo, { method, headers: req.headers, body }, stopping.signal);
    report({ verified: true, type, summary, webhookId, forward: forwarded });
    answer('status' in forwarded ? forwarded.status : 502);
  };

  const server = createServer((req, res) => {
    handle(req, res)
      .catch((err: unknown) => {
        ctx.say(`error: ${oneLine(err instanceof Error ? err.message : String(err))}`);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      })
      .finally(() => {
        if (count !== undefined && ++handled >= count) stopping.abort();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new CliError(`${host}:${port.toString()} is taken`, EXIT.error, 'choose another port with --port')
          : new CliError(`cannot listen on ${host}:${port.toString()}: ${err.message}`),
      ),
    );
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  ctx.say(`Listening on http://${shown}:${actual.toString()}/ — give it as the callback_url of a job or an alert`);
  ctx.say(forwardTo ? `Forwarding verified callbacks to ${forwardTo.href}` : 'Not forwarding (no --forward-to)');

  const stop = () => stopping.abort();
  ctx.io.signal.addEventListener('abort', stop, { once: true });
  if (!stopping.signal.aborted)
    await new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  ctx.io.signal.removeEventListener('abort', stop);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return ctx.io.signal.aborted && (count === undefined || handled < count) ? EXIT.interrupted : EXIT.ok;
};
