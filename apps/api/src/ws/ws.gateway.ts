// WebSocket /ws: upgrades on the api's HTTP server, sessions, heartbeat and shutdown. Frames come
// from the notifier through Redis (ws.channels.ts); each api replica holds only the channels its
// sockets hold.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

import { WS_LIMITS, type ApiSettings } from '@ratewire/contracts';
import { jobOwner, type Database } from '@ratewire/db';
import type { Logger, RedisClient } from '@ratewire/runtime';
import { Gauge, type Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';

import type { Accounts } from '../auth/accounts.ts';
import { fromOwnOrigin, sessionCookieOf } from '../auth/session-cookie.ts';
import { AddressLimit, CLOSE_TOO_MANY_FROM_ADDRESS, clientAddress } from './ws.addresses.ts';
import { ChannelHub } from './ws.channels.ts';
import { readSince } from './ws.history.ts';
import { WsSession, type GatewayContext, type GatewayStats } from './ws.session.ts';

export const WS_PATH = '/ws';
/** The close code of every socket when the api stops: Service Restart in the IANA WebSocket close code registry. */
export const CLOSE_SERVICE_RESTART = 1012;

export interface WsGateway {
  readonly stats: GatewayStats;
  connections(): number;
  channels(): number;
  /**
   * Refuses new sockets, closes every open one with 1012 (service restart: clients reconnect at once,
   * to another replica, and resume with `since`) and drops the Redis subscriber.
   */
  close(): Promise<void>;
}

export interface WsGatewayDeps {
  settings: ApiSettings;
  log: Logger;
  db: Database;
  redis: RedisClient;
  /** The HTTP server whose upgrades to /ws this gateway takes. */
  server: Server;
  accounts: Accounts;
  /** Where the gateway's gauges go (the api's metrics). */
  registry?: Registry;
}

export function createWsGateway(deps: WsGatewayDeps): WsGateway {
  const { server, accounts, registry } = deps;
  const log = deps.log.child({ component: 'ws' });
  const hub = new ChannelHub({ connection: deps.settings, redis: deps.redis, log });
  const stats: GatewayStats = { framesSent: 0, slowCloses: 0, floodCloses: 0, heartbeatDrops: 0 };
  const ctx: GatewayContext = {
    hub,
    log,
    stats,
    verifyToken: (token) => accounts.authenticate(token).then((caller) => ('user' in caller ? caller.user : null)),
    jobOwner: (jobId) => jobOwner(deps.db, jobId),
    readSince: (channel, since) => readSince(deps.redis, channel, since),
  };
  const sessions = new Set<WsSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_LIMITS.maxFrameBytes, clientTracking: false });
  const perAddress = new AddressLimit(deps.settings.WS_MAX_CONNECTIONS_PER_IP);
  let closing = false;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    // stopped accepting: an upgrade can only come on a connection opened before, as a balancer's
    // pooled one; dropped unanswered, as if it had been closed just before, the balancer tries the
    // next replica (nginx: proxy_next_upstream error), where a 503 would reach the client
    if (closing) {
      socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) {
      socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const address = clientAddress(req, deps.settings.TRUST_PROXY);
    const upgrade = (token: string | null) =>
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, token, address));
    const urlToken = url.searchParams.get('token');
    const cookieToken = urlToken === null ? browserSessionToken(req, deps.settings.TRUST_PROXY) : null;
    if (cookieToken === null) return upgrade(urlToken);
    // a cookie whose session ended is no credential: the socket opens anonymous, as the REST reads do
    ctx.verifyToken(cookieToken).then(
      (user) => upgrade(user ? cookieToken : null),
      () => upgrade(null),
    );
  });

  function onConnection(ws: WebSocket, token: string | null, address: string): void {
    if (closing) {
      ws.close(CLOSE_SERVICE_RESTART, 'service restart');
      return;
    }
    if (!perAddress.acquire(address)) {
      ws.close(CLOSE_TOO_MANY_FROM_ADDRESS, 'too many connections from this address');
      return;
    }
    const session = new WsSession(ws, ctx);
    sessions.add(session);
    ws.on('message', (data, isBinary) => session.onMessage(data, isBinary));
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('error', (err) => log.debug({ err: err.message }, 'ws socket error'));
    ws.once('close', () => {
      perAddress.release(address);
      sessions.delete(session);
      session.dispose();
    });
    session.start(token);
  }

  // heartbeat: a socket that has not answered the previous ping by the next one is dropped
  const heartbeat = setInterval(() => {
    for (const session of sessions) {
      if (!session.alive) {
        stats.heartbeatDrops++;
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      session.ws.ping();
    }
  }, deps.settings.WS_PING_INTERVAL_MS);
  heartbeat.unref();

  if (registry) {
    new Gauge({
      name: 'ws_connections',
      help: 'Open /ws sockets',
      registers: [registry],
      collect() {
        this.set(sessions.size);
      },
    });
    new Gauge({
      name: 'ws_channels',
      help: 'Channels this replica is subscribed to in Redis',
      registers: [registry],
      collect() {
        this.set(hub.channelCount);
      },
    });
    const totals = new Gauge({
      name: 'ws_totals',
      help: 'Since start: frames sent, sockets closed as slow (1013), as floods (1008), by heartbeat',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        totals.set({ kind: 'frames_sent' }, stats.framesSent);
        totals.set({ kind: 'slow_closes' }, stats.slowCloses);
        totals.set({ kind: 'flood_closes' }, stats.floodCloses);
        totals.set({ kind: 'heartbeat_drops' }, stats.heartbeatDrops);
      },
    });
  }

  return {
    stats,
    connections: () => sessions.size,
    channels: () => hub.channelCount,
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      const open = [...sessions];
      const closed = Promise.all(
        open.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.ws.readyState === s.ws.CLOSED) return resolve();
              s.ws.once('close', () => resolve());
            }),
        ),
      );
      for (const s of open) {
        s.dispose();
        s.ws.close(CLOSE_SERVICE_RESTART, 'service restart');
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      for (const s of sessions) s.ws.terminate();
      await hub.close();
    },
  };
}

/**
 * A browser's socket is signed in by its session cookie, but only when the page that opened it is
 * of this origin: a page elsewhere cannot open a socket with the visitor's cookie and read their
 * private channels (browsers send cookies, and Origin, with every WebSocket handshake).
 */
function browserSessionToken(req: IncomingMessage, trustProxy: boolean): string | null {
  const token = sessionCookieOf(req.headers);
  if (token === undefined) return null;
  const forwarded = trustProxy ? req.headers['x-forwarded-host'] : undefined;
  const host = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : req.headers.host;
  return fromOwnOrigin(req.headers, host) ? token : null;
}
