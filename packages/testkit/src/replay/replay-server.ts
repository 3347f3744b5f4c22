import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FIXTURES_DIR } from './fixtures.ts';
import {
  binanceRequestWeight,
  DEFAULT_BINANCE_FIXTURES,
  defaultFeedResponse,
  type BinanceFixtures,
  type FeedConfig,
} from './feeds.ts';
import {
  replayBody,
  replayContentType,
  validateReplayResponse,
  type ReplayHandler,
  type ReplayRequest,
  type ReplayResponse,
} from './responses.ts';

export interface ReplayServerOptions {
  /** Port on 127.0.0.1; default 0 (ephemeral). Give a closed server's port to "bring the feed back". */
  port?: number;
  /** Default FIXTURES_DIR. */
  fixturesDir?: string;
  /** CBR's "today" (`YYYY-MM-DD`): requests without date_req (or later) resolve as of this day. */
  cbrToday?: string;
  /** Fixtures behind the default Binance routes. */
  binance?: BinanceFixtures;
}

export interface ReplayServer {
  /** Origin, e.g. `http://127.0.0.1:41234`: use it as CBR_BASE_URL and BINANCE_BASE_URL. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order (live; cleared by reset()). */
  readonly requests: readonly ReplayRequest[];
  /** Binance request weight used in the current UTC minute (what X-MBX-USED-WEIGHT-1M reports). */
  readonly usedWeight: number;
  /**
   * Scripts the answers for `path` (pathname, optionally with a query that must match, e.g.
   * `/api/v3/ticker/price?symbol=BTCUSDT`): one response per request, in order; the last repeats.
   * Replaces an earlier script for the same path. The most specific matching script wins.
   */
  respond(path: string, ...responses: (ReplayResponse | ReplayHandler)[]): void;
  /** Forgets all scripts, the request log and the used weight. */
  reset(): void;
  /** Stops listening, ends every open socket (hanging ones too) and cancels pending sends. */
  close(): Promise<void>;
}

interface Script {
  path: string;
  query: [string, string][];
  responses: (ReplayResponse | ReplayHandler)[];
  served: number;
}

/**
 * Starts a local stand-in for cbr.ru and api.binance.com that replays the recorded fixtures
 * (see fixtures/SOURCES.md) and whatever a test scripts, including broken answers.
 */
export async function startReplayServer(options: ReplayServerOptions = {}): Promise<ReplayServer> {
  const cfg: FeedConfig = {
    fixturesDir: options.fixturesDir ?? FIXTURES_DIR,
    ...(options.cbrToday !== undefined ? { cbrToday: options.cbrToday } : {}),
    binance: { ...DEFAULT_BINANCE_FIXTURES, ...options.binance },
  };
  const requests: ReplayRequest[] = [];
  const scripts = new Map<string, Script>();
  const sockets = new Set<Socket>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;
  /** Resolves after `ms`, or at once when the server closes (senders then see `closed`). */
  const sleep = (ms: number) =>
    new Promise<void>((wake) => {
      const t = setTimeout(() => {
        timers.delete(t);
        wake();
      }, ms);
      timers.set(t, wake);
    });
  let weight = { minute: 0, used: 0 };

  const useWeight = (n: number) => {
    const minute = Math.floor(Date.now() / 60_000);
    if (weight.minute !== minute) weight = { minute, used: 0 };
    weight.used += n;
    return weight.used;
  };

  const pickScript = (req: ReplayRequest): Script | undefined => {
    let best: Script | undefined;
    for (const s of scripts.values()) {
      if (s.path !== req.path) continue;
      if (!s.query.every(([k, v]) => req.query.getAll(k).includes(v))) continue;
      if (!best || s.query.length > best.query.length) best = s;
    }
    return best;
  };

  const answer = async (req: ReplayRequest): Promise<ReplayResponse> => {
    const script = pickScript(req);
    if (script) {
      const step = script.responses[Math.min(script.served++, script.responses.length - 1)];
      const r = typeof step === 'function' ? await step(req) : step;
      if (r) {
        validateReplayResponse(r);
        if (!r.useDefault) return r;
        // The default answer, delivered as this step says (delay, trickle, extra headers…).
        const { useDefault: _, ...delivery } = r;
        const d = defaultFeedResponse(req, cfg);
        return { ...d, ...delivery, headers: { ...d.headers, ...delivery.headers } };
      }
    }
    return defaultFeedResponse(req, cfg);
  };

  const send = async (
    r: ReplayResponse,
    req: ReplayRequest,
    res: ServerResponse,
    socket: Socket,
    usedWeight: number | undefined,
  ) => {
    if (r.delayMs) await sleep(r.delayMs);
    if (closed || socket.destroyed) return;
    if (r.hang === true) return; // the socket stays open until the client gives up or close()
    if (r.destroy === 'before-headers') {
      socket.destroy();
      return;
    }
    const body = replayBody(r, cfg.fixturesDir);
    res.statusCode = r.status ?? 200;
    const contentType = replayContentType(r, req.path);
    if (contentType !== undefined) res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', body.length);
    if (usedWeight !== undefined) {
      res.setHeader('X-MBX-USED-WEIGHT', usedWeight);
      res.setHeader('X-MBX-USED-WEIGHT-1M', usedWeight);
    }
    for (const [name, value] of Object.entries(r.headers ?? {})) res.setHeader(name, value);
    const partial = r.destroy ?? (typeof r.hang === 'object' ? r.hang : undefined);
    if (partial !== undefined) {
      const n = Math.min(body.length, partial === true ? Math.floor(body.length / 2) : partial.afterBytes);
      res.flushHeaders();
      res.write(body.subarray(0, n), () => {
        if (r.destroy) socket.destroy();
      });
      return;
    }
    if (r.trickle) {
      const { chunks, intervalMs } = r.trickle;
      const size = Math.ceil(body.length / chunks);
      res.flushHeaders();
      for (let i = 0; i < chunks; i++) {
        if (i > 0) await sleep(intervalMs);
        if (closed || socket.destroyed) return;
        res.write(body.subarray(i * size, (i + 1) * size));
      }
      res.end();
      return;
    }
    res.end(body);
  };

  const server = createServer((incoming: IncomingMessage, res: ServerResponse) => {
    const url = new URL(incoming.url ?? '/', 'http://replay.invalid');
    const req: ReplayRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      url: incoming.url ?? '/',
      headers: incoming.headers,
      time: new Date(),
    };
    requests.push(req);
    // Binance charges the weight when the request arrives, whatever the answer.
    const usedWeight = req.path.startsWith('/api/') ? useWeight(binanceRequestWeight(req)) : undefined;
    incoming.resume();
    const socket = incoming.socket;
    answer(req)
      .then((r) => send(r, req, res, socket, usedWeight))
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        console.error(`replay server: ${req.method} ${req.url} failed: ${message}`);
        if (!res.headersSent && !socket.destroyed) {
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Replay-Error': 'true' });
          res.end(`replay server error: ${message}\n`);
        } else {
          socket.destroy();
        }
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get usedWeight() {
      return weight.minute === Math.floor(Date.now() / 60_000) ? weight.used : 0;
    },
    respond(path, ...responses) {
      if (responses.length === 0) throw new Error('respond: give at least one response');
      for (const r of responses) if (typeof r !== 'function') validateReplayResponse(r);
      const url = new URL(path, 'http://replay.invalid');
      const query = [...url.searchParams.entries()];
      const key = `${url.pathname}?${query
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join('&')}`;
      scripts.set(key, { path: url.pathname, query, responses, served: 0 });
    },
    reset() {
      scripts.clear();
      requests.length = 0;
      weight = { minute: 0, used: 0 };
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const [t, wake] of timers) {
        clearTimeout(t);
        wake();
      }
      timers.clear();
      return new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
