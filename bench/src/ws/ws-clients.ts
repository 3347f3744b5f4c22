// Child process of the ws benchmark: the load generator. Opens N sockets (spread over several
// loopback source addresses so the ephemeral ports last), optionally subscribes each, counts
// deliveries and samples event-to-client latency from the publish time carried in the frame.
import { WebSocket } from 'ws';

interface Start {
  cmd: 'connect';
  url: string;
  sockets: number;
  subscribe: string | null;
  sources: string[];
  sampleEvery: number;
}

const send = (msg: unknown) => process.send?.(msg);
const sockets: WebSocket[] = [];
let counting = false;
let deliveries = 0;
let latencies: number[] = [];
let closedEarly = 0;
let cpuAtStart = process.cpuUsage();
const MARK = Buffer.from('"price":"');
const now = () => performance.timeOrigin + performance.now();

function open(url: string, index: number, cfg: Start): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress: cfg.sources[index % cfg.sources.length], perMessageDeflate: false });
    const sampled = index % cfg.sampleEvery === 0;
    let ready = false;
    ws.on('message', (data: Buffer) => {
      if (!ready) {
        // welcome (ours) then subscribed; the bare server sends nothing before events
        const text = data.toString();
        if (cfg.subscribe === null || text.includes('"subscribed"')) {
          ready = true;
          resolve();
        }
        return;
      }
      if (!counting) return;
      deliveries++;
      if (sampled) {
        const at = data.indexOf(MARK);
        if (at >= 0) {
          const end = data.indexOf(34, at + MARK.length);
          latencies.push(now() - Number(data.toString('latin1', at + MARK.length, end)));
        }
      }
    });
    ws.once('open', () => {
      if (cfg.subscribe !== null) ws.send(JSON.stringify({ op: 'subscribe', channel: cfg.subscribe }));
      else {
        ready = true;
        resolve();
      }
    });
    ws.once('error', reject);
    ws.once('close', () => {
      if (counting) closedEarly++;
    });
    sockets.push(ws);
  });
}

process.on('message', (msg: Start | { cmd: string }) => {
  void (async () => {
    if (msg.cmd === 'connect') {
      const cfg = msg as Start;
      const batch = 250;
      for (let i = 0; i < cfg.sockets; i += batch) {
        const n = Math.min(batch, cfg.sockets - i);
        await Promise.all(Array.from({ length: n }, (_, k) => open(cfg.url, i + k, cfg)));
      }
      send({ connected: sockets.length });
    } else if (msg.cmd === 'start') {
      deliveries = 0;
      latencies = [];
      cpuAtStart = process.cpuUsage();
      counting = true;
      send({ started: true });
    } else if (msg.cmd === 'stop') {
      counting = false;
      const cpu = process.cpuUsage(cpuAtStart);
      send({
        deliveries,
        latencies,
        closedEarly,
        cpuMs: (cpu.user + cpu.system) / 1000,
        open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
      });
    } else if (msg.cmd === 'close') {
      for (const s of sockets) s.terminate();
      send({ closed: true });
    }
  })().catch((err: unknown) => send({ error: err instanceof Error ? err.message : String(err) }));
});
send({ ready: true });
