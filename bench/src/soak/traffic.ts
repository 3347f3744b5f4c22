// The soak's mixed traffic, every loop paced at a fixed rate, bounded in count and in time, and
// aimed at 127.0.0.1 only: REST reads and writes, logins, job submissions, WebSocket sockets that
// connect, subscribe and go, NATS and Redis messages of the contracts — and invalid ones of each.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

import { SUBJECTS } from '@ratewire/contracts';
import type { NatsConnection, RedisClient } from '@ratewire/runtime';
import { fc, hostileJsonValue, jsonText, percentEncode } from '@ratewire/testkit/fuzz';
import { WebSocket } from 'ws';

export interface TrafficTarget {
  /** `http://127.0.0.1:<port>` */
  apiUrl: string;
  nats: NatsConnection;
  redis: RedisClient;
  adminEmail: string;
  adminPassword: string;
}

export interface LoopStats {
  sent: number;
  byClass: Record<string, number>;
  errors: number;
  /** 5xx answers by status and path (ids and dates as placeholders). */
  serverErrors: Record<string, number>;
}

export type TrafficStats = Record<string, LoopStats>;

const LOOPBACK = /^(?:http|ws):\/\/127\.0\.0\.1:\d+$/;

/** Rates per second of each loop. */
const RATES = { reads: 80, writes: 10, jobs: 20, logins: 2, sockets: 4, nats: 20, redis: 20, invalid: 20 } as const;

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const int = (max: number) => Math.floor(Math.random() * max);

/** Hostile JSON texts (NUL, lone surrogates, 1e308, deep nesting, duplicate keys...), drawn once. */
const HOSTILE = fc.sample(hostileJsonValue.map(jsonText), { numRuns: 400, seed: 42 });

export class Traffic {
  readonly stats: TrafficStats = {};
  private readonly t: TrafficTarget;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly sockets = new Set<WebSocket>();
  private tokens: string[] = [];
  private admin = '';
  private jobIds: string[] = [];
  private currencyIds: number[] = [];

  constructor(target: TrafficTarget) {
    if (!LOOPBACK.test(target.apiUrl)) throw new Error(`the soak only targets 127.0.0.1, not ${target.apiUrl}`);
    this.t = target;
  }

  private record(loop: string, status: number | 'error', path?: string): void {
    const s = (this.stats[loop] ??= { sent: 0, byClass: {}, errors: 0, serverErrors: {} });
    if (typeof status === 'number' && status >= 500 && path !== undefined) {
      const code = / \(\w+\)$/.exec(path)?.[0] ?? '';
      const key = `${status} ${path
        .split('?')[0]!
        .replace(/ \(\w+\)$/, '')
        .replace(/\d{4}-\d{2}-\d{2}/, '{date}')
        .replace(/\/[0-9a-f-]{36}$|\/\d+$/, '/{id}')}${code}`;
      s.serverErrors[key] = (s.serverErrors[key] ?? 0) + 1;
    }
    s.sent++;
    if (status === 'error') s.errors++;
    else {
      const cls = `${Math.floor(status / 100)}xx`;
      s.byClass[cls] = (s.byClass[cls] ?? 0) + 1;
    }
  }

  request(
    method: string,
    path: string,
    options: { body?: string; token?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; text: string }> {
    const url = new URL(this.t.apiUrl);
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method, path, headers, agent: this.agent, timeout: 30_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(options.body);
    });
  }

  private async call(loop: string, method: string, path: string, options: Parameters<Traffic['request']>[2] = {}) {
    try {
      const res = await this.request(method, path, options);
      const code = /"code":"([^"]+)"/.exec(res.text)?.[1] ?? '';
      this.record(loop, res.status, `${method} ${path}${code ? ` (${code})` : ''}`);
      return res;
    } catch {
      this.record(loop, 'error');
      return undefined;
    }
  }

  /** Accounts (registered and signed in over the api), the admin, a few currencies and jobs. */
  async setup(): Promise<void> {
    const login = async (email: string, password: string) => {
      const res = await this.request('POST', '/api/v1/auth/login', { body: JSON.stringify({ email, password }) });
      if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
      return (JSON.parse(res.text) as { access_token: string }).access_token;
    };
    this.admin = await login(this.t.adminEmail, this.t.adminPassword);
    for (let i = 0; i < 5; i++) {
      const email = `soak-${i}-${randomUUID()}@example.test`;
      await this.request('POST', '/api/v1/auth/register', {
        body: JSON.stringify({ email, password: 'soak-password' }),
      });
      this.tokens.push(await login(email, 'soak-password'));
    }
    for (const code of ['USD', 'EUR', 'JPY', 'GBP', 'CNY']) {
      const res = await this.request('POST', '/api/v1/currencies', {
        token: this.admin,
        body: JSON.stringify({ code, rate: '90.5', name: code }),
      });
      if (res.status === 201) this.currencyIds.push((JSON.parse(res.text) as { id: number }).id);
    }
  }

  /** Runs `step` `rate` times a second until `deadline` (and at most that many times in all). */
  private async paced(rate: number, deadline: number, step: () => Promise<void>): Promise<void> {
    const start = Date.now();
    const max = Math.ceil((rate * (deadline - start)) / 1000);
    for (let i = 0; i < max && Date.now() < deadline; i++) {
      const wait = start + (i * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await step();
    }
  }

  private readStep = async () => {
    const day = new Date(Date.UTC(2015 + int(11), int(12), 1 + int(28))).toISOString().slice(0, 10);
    const path = pick([
      '/api/v1/rates/binance',
      `/api/v1/rates/binance/${pick(['BTCUSDT', 'ETHUSDT', 'BNBBTC', 'NOPEUSDT'])}`,
      '/api/v1/rates/cbr/latest',
      `/api/v1/rates/cbr/${day}`,
      `/api/v1/rates/cbr/latest?symbols=${pick(['USD', 'USD,EUR', 'XXX'])}`,
      `/api/v1/currencies?limit=${1 + int(100)}&offset=${int(1000)}`,
      `/currencies?offset=${int(1000)}`,
      `/api/v1/convert?from=USD&to=EUR&amount=${int(100_000)}.${int(100)}`,
      `/api/v1/rates/cbr/series?symbol=USD&from=2020-01-01&to=2020-03-01`,
      '/symbols/get/all',
      '/ping',
    ]);
    await this.call('reads', 'GET', path, { headers: { 'accept-encoding': pick(['gzip', 'br', 'identity']) } });
  };

  private writeStep = async () => {
    const code = String.fromCharCode(65 + int(26), 65 + int(26), 65 + int(26));
    const op = int(4);
    if (op === 0) {
      const res = await this.call('writes', 'POST', '/api/v1/currencies', {
        token: this.admin,
        body: JSON.stringify({ code, rate: `${1 + int(200)}.${int(10_000)}`, name: `soak ${code}` }),
      });
      if (res?.status === 201) this.currencyIds.push((JSON.parse(res.text) as { id: number }).id);
    } else if (op === 1 && this.currencyIds.length) {
      await this.call('writes', 'PATCH', `/api/v1/currencies/${pick(this.currencyIds)}`, {
        token: this.admin,
        body: JSON.stringify({ rate: `${1 + int(200)}.${int(100)}` }),
      });
    } else if (op === 2 && this.currencyIds.length > 20) {
      const id = this.currencyIds.splice(int(this.currencyIds.length), 1)[0]!;
      await this.call('writes', 'DELETE', `/api/v1/currencies/${id}`, { token: this.admin });
    } else {
      await this.call('writes', 'POST', '/api/v1/tasks/rates-refresh', { token: this.admin });
    }
  };

  private jobStep = async () => {
    const token = pick(this.tokens);
    if (this.jobIds.length && Math.random() < 0.3) {
      await this.call('jobs', 'GET', `/api/v1/exchange-jobs/${pick(this.jobIds)}`, { token });
      return;
    }
    const res = await this.call('jobs', 'POST', '/api/v1/exchange-jobs', {
      token,
      body: JSON.stringify({
        request_id: randomUUID(),
        ...(Math.random() < 0.5 ? { exchange_rate: `${1 + int(100)}.5` } : { currency: pick(['USD', 'EUR', 'XXX']) }),
        bills: Array.from({ length: 1 + int(5) }, (_, i) => ({
          denomination_id: i,
          denomination: 10 * (i + 1),
          count: 1 + int(9),
        })),
      }),
    });
    if (res?.status === 202) {
      this.jobIds.push((JSON.parse(res.text) as { job_id: string }).job_id);
      if (this.jobIds.length > 500) this.jobIds.shift();
    }
  };

  private loginStep = async () => {
    const good = Math.random() < 0.5;
    await this.call('logins', 'POST', '/api/v1/auth/login', {
      headers: { 'x-forwarded-for': `10.${int(255)}.${int(255)}.${int(255)}` },
      body: JSON.stringify(
        good
          ? { email: this.t.adminEmail, password: this.t.adminPassword }
          : { email: `nobody-${int(1_000_000)}@example.test`, password: 'wrong-password' },
      ),
    });
  };

  /** A socket that connects, subscribes to a few channels (some refused), stays 1–10 s and goes. */
  private socketStep = (): Promise<void> => {
    if (this.sockets.size >= 30) return Promise.resolve();
    const token = Math.random() < 0.5 ? pick(this.tokens) : null;
    const url = `${this.t.apiUrl.replace('http', 'ws')}/ws${token ? `?token=${token}` : ''}`;
    const ws = new WebSocket(url);
    this.sockets.add(ws);
    const done = () => this.sockets.delete(ws);
    ws.on('error', () => {
      this.record('sockets', 'error');
      done();
    });
    ws.on('close', done);
    ws.on('open', () => {
      this.record('sockets', 101);
      const channels = [
        'currencies',
        'rates.binance',
        `rates.binance:${pick(['BTCUSDT', 'ETHUSDT', `S${int(10_000)}`])}`,
        'tasks',
        `jobs:${this.jobIds.length ? pick(this.jobIds) : randomUUID()}`,
        `jobs:${randomUUID()}`,
        'no-such-channel',
      ];
      for (let i = 0; i < 1 + int(4); i++)
        ws.send(JSON.stringify({ op: 'subscribe', channel: pick(channels), since: '0-0' }));
      ws.send(pick(HOSTILE));
      ws.send(JSON.stringify({ op: 'ping' }));
      setTimeout(() => ws.close(), 1000 + int(9000));
    });
    return Promise.resolve();
  };

  private natsStep = async () => {
    const { nats } = this.t;
    const kind = int(4);
    try {
      if (kind === 0) {
        nats.publish(
          SUBJECTS.currenciesInbound,
          JSON.stringify({ event: 'rates_update', rates: { USD: 80 + Math.random() } }),
        );
      } else if (kind === 1) {
        const price = `${90_000 + int(10_000)}.${int(100)}`;
        nats.publish(
          SUBJECTS.ratesBinanceUpdated,
          JSON.stringify({ ts: new Date().toISOString(), changed: [{ symbol: 'BTCUSDT', price, previous: null }] }),
        );
      } else if (kind === 2) {
        nats.publish(
          `${SUBJECTS.tasksRatesRefresh}.requested`,
          JSON.stringify({ task_id: randomUUID(), status: 'queued' }),
        );
      } else {
        const reply = await nats.request(SUBJECTS.ratesCbrFetchDay, JSON.stringify({ date: '2020-04-25' }), {
          timeout: 10_000,
        });
        void reply;
      }
      this.record('nats', 200);
    } catch {
      this.record('nats', 'error');
    }
  };

  private redisStep = async () => {
    const message =
      Math.random() < 0.5
        ? { job_id: this.jobIds.length ? pick(this.jobIds) : randomUUID(), status: 'running', progress: Math.random() }
        : { task_id: randomUUID(), status: pick(['queued', 'running', 'done']) };
    try {
      await this.t.redis.publish('notifications', JSON.stringify(message));
      this.record('redis', 200);
    } catch {
      this.record('redis', 'error');
    }
  };

  /** Refused input everywhere: hostile bodies and queries, bad tokens, invalid NATS and Redis messages. */
  private invalidStep = async () => {
    const text = pick(HOSTILE);
    const kind = int(6);
    if (kind === 0) {
      await this.call(
        'invalid',
        'POST',
        pick(['/api/v1/exchange-jobs', '/api/v1/currencies', '/api/v1/auth/register']),
        {
          token: pick([...this.tokens, this.admin, 'not-a-token']),
          body: text,
        },
      );
    } else if (kind === 1) {
      await this.call('invalid', 'GET', `/api/v1/rates/cbr/${percentEncode(text.slice(0, 200))}`);
    } else if (kind === 2) {
      await this.call('invalid', 'GET', '/api/v1/auth/me', { token: `x${int(1_000_000)}` });
    } else if (kind === 3) {
      this.t.nats.publish(
        pick([SUBJECTS.ratesCbrUpdated, SUBJECTS.currenciesInbound, SUBJECTS.jobsCompleted, SUBJECTS.jobsSubmit]),
        text,
      );
      this.record('invalid', 200);
    } else if (kind === 4) {
      await this.t.redis.publish('notifications', text).catch(() => undefined);
      this.record('invalid', 200);
    } else {
      await this.t.nats.request(SUBJECTS.ratesCbrFetchDay, text, { timeout: 10_000 }).catch(() => undefined);
      this.record('invalid', 200);
    }
  };

  /** Every loop until `deadline`. */
  async run(deadline: number): Promise<void> {
    const loops: [number, () => Promise<void>, number][] = [
      [RATES.reads, this.readStep, 4],
      [RATES.writes, this.writeStep, 1],
      [RATES.jobs, this.jobStep, 2],
      [RATES.logins, this.loginStep, 1],
      [RATES.sockets, this.socketStep, 1],
      [RATES.nats, this.natsStep, 2],
      [RATES.redis, this.redisStep, 1],
      [RATES.invalid, this.invalidStep, 2],
    ];
    // a loop with n workers runs rate/n steps a second in each
    await Promise.all(
      loops.flatMap(([rate, step, n]) => Array.from({ length: n }, () => this.paced(rate / n, deadline, step))),
    );
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.agent.destroy();
  }
}
