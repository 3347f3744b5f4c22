// Child process of the ws benchmark: either our api (/ws gateway, fed by the notifier through
// Redis) or a bare `ws` server that takes the same events from NATS and broadcasts them itself.
// Talks to the parent over IPC: {ready, port} once listening, {mem} on request.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { apiSettingsSchema } from '@ratewire/contracts';
import { createDb, createPool } from '@ratewire/db';
import { createLogger, createNats, createRedis, parseSettings } from '@ratewire/runtime';
import { WebSocketServer } from 'ws';

import { composeApi } from '../../../apps/api/src/compose.ts';

const mode = process.argv[2];
const send = (msg: unknown) => process.send?.(msg);

async function ours(): Promise<number> {
  // every benchmark socket comes from loopback: no per-address limit here
  const settings = parseSettings(apiSettingsSchema, {
    WS_MAX_CONNECTIONS_PER_IP: '1000000',
    ...process.env,
    LOG_LEVEL: 'warn',
  });
  const log = createLogger('bench-api', settings.LOG_LEVEL);
  const pool = createPool(settings.DATABASE_URL, { max: 2 });
  const redis = createRedis(settings.REDIS_URL, log, 'bench-api');
  const nats = await createNats(settings.NATS_URL, log, 'bench-api');
  const api = composeApi({ settings, log, pool, db: createDb(pool), redis, nats });
  const url = await api.listen(0, '127.0.0.1');
  return Number(new URL(url).port);
}

/** The baseline: one JSON.stringify per event, then `send` to every socket, as a plain ws server does. */
async function bare(): Promise<number> {
  const log = createLogger('bench-bare', 'warn');
  const nats = await createNats([process.env.NATS_URL!], log, 'bench-bare');
  const server = createServer();
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 });
  wss.on('connection', (ws) => ws.on('error', () => {}));
  let seq = 0;
  nats.subscribe('bench.bare.rates', {
    callback: (_err, msg) => {
      const frame = JSON.stringify({
        type: 'event',
        channel: 'rates.binance',
        id: `${Date.now()}-${seq++}`,
        event: 'rates.binance.updated',
        data: JSON.parse(msg.string()) as unknown,
        ts: new Date().toISOString(),
      });
      for (const ws of wss.clients) ws.send(frame);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const port = mode === 'bare' ? await bare() : await ours();
process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'mem') {
    // settle garbage first: the figure is what the sockets hold, not what is waiting for collection
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    send({ mem: process.memoryUsage() });
  } else if (msg.cmd === 'cpu') {
    const cpu = process.cpuUsage();
    send({ cpuMs: (cpu.user + cpu.system) / 1000 });
  }
});
send({ ready: true, port });
