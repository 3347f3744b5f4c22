// `npm start -- --replicas …`: the argument's checks, then a real run from a fresh checkout with three
// api replicas behind Debian's nginx, two workers and two notifiers, as real processes on ports of
// their own.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseReplicas, planReplicas } from '../../scripts/bootstrap/replicas.ts';

import {
  copyCheckout,
  freePortRange,
  isolatedEnv,
  isolatedPorts,
  discardCheckout,
  processesOf,
  runBootstrap,
  type Run,
} from './checkout.ts';

describe('--replicas', () => {
  it('reads app=count for each app named, and one of every other', () => {
    expect(parseReplicas([])).toBeNull();
    expect(parseReplicas(['--replicas', 'api=3,worker=2,notifier=2'])).toEqual({ api: 3, worker: 2, notifier: 2 });
    expect(parseReplicas(['--replicas=api=2'])).toEqual({ api: 2, worker: 1, notifier: 1 });
    expect(parseReplicas(['--replicas', 'notifier=16, api=1'])).toEqual({ api: 1, worker: 1, notifier: 16 });
  });

  it.each([
    [['--replicas', 'web=2'], /unknown app "web"/],
    [['--replicas', 'api=0'], /api=0: the count must be a whole number from 1 to 16/],
    [['--replicas', 'api=17'], /api=17: the count must be a whole number from 1 to 16/],
    [['--replicas', 'api=1.5'], /from 1 to 16/],
    [['--replicas', 'api:3'], /"api:3" is not app=count/],
    [['--replicas', 'api=2,'], /"" is not app=count/],
    [['--replicas', 'api=2,api=3'], /api is given twice/],
    [['--replicas'], /--replicas needs a list of app=count/],
    [['--replica', 'api=2'], /does not know the argument "--replica"/],
  ])('refuses %j with a message saying what is wrong', (args, message) => {
    expect(() => parseReplicas(args)).toThrow(message);
  });

  it('gives each replica a port of its own, consecutive from its app’s first port', () => {
    const plan = planReplicas({ api: 3, worker: 2, notifier: 1 });
    expect(plan.map((r) => `${r.name}:${r.port}`)).toEqual([
      'api.1:8101',
      'api.2:8102',
      'api.3:8103',
      'worker.1:8201',
      'worker.2:8202',
      'notifier.1:8301',
    ]);
    expect(() => planReplicas({ api: 2, worker: 1, notifier: 1 }, [{ name: 'nginx', port: 8102 }])).toThrow(
      'api.2 and nginx would both listen on port 8102',
    );
  });
});

const isRoot = process.getuid?.() === 0;

interface WorkerReady {
  feeds?: { binance?: { leader?: boolean } };
}

// Real processes starting real servers: minutes, not seconds, on a loaded CI machine.
describe('npm start -- --replicas api=3,worker=2,notifier=2', { timeout: 300_000 }, () => {
  let checkout: string;
  let env: NodeJS.ProcessEnv;
  let ports: Record<string, number>;
  let run: Run | undefined;
  const leftOver = () => processesOf(checkout);

  beforeAll(async () => {
    checkout = copyCheckout('rw-replicas-');
    ports = await isolatedPorts();
    ports['RATEWIRE_API_REPLICA_PORT'] = await freePortRange(3);
    ports['RATEWIRE_WORKER_REPLICA_PORT'] = await freePortRange(2);
    ports['RATEWIRE_NOTIFIER_REPLICA_PORT'] = await freePortRange(2);
    // the feeds stay quiet: nothing here is about them (the leader is elected all the same)
    env = { ...isolatedEnv(ports), BINANCE_STREAM: 'off' };
  });

  afterAll(() => {
    run?.child.kill('SIGKILL');
    discardCheckout(checkout);
  });

  it('balances over three api replicas behind nginx, elects one feed leader, reports a replica that exits, and Ctrl-C leaves nothing', async () => {
    const started = performance.now();
    run = runBootstrap(checkout, env, ['start', '--replicas', 'api=3,worker=2,notifier=2']);
    await run.waitFor(/Ctrl-C stops everything/, 240_000);
    console.log(
      `[measure] --replicas api=3,worker=2,notifier=2 ready after ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const nginx = `http://127.0.0.1:${ports['PORT']}`;
    const api = [0, 1, 2].map((i) => ports['RATEWIRE_API_REPLICA_PORT']! + i);
    const workers = [0, 1].map((i) => ports['RATEWIRE_WORKER_REPLICA_PORT']! + i);
    const notifiers = [0, 1].map((i) => ports['RATEWIRE_NOTIFIER_REPLICA_PORT']! + i);

    // where everything is: nginx as the api, then each replica
    const out = run.output();
    expect(out).toContain('ready: 3 api, 2 worker and 2 notifier replicas, nginx in front of the api replicas:');
    expect(out).toContain(`console  ${nginx}/`);
    expect(out).toContain(`api      ${nginx}/api/v1   (nginx, round robin over the api replicas)`);
    api.forEach((p, i) => expect(out).toMatch(new RegExp(`api\\.${i + 1} +http://127\\.0\\.0\\.1:${p}/api/v1 `)));
    workers.forEach((p, i) =>
      expect(out).toMatch(new RegExp(`worker\\.${i + 1} +http://127\\.0\\.0\\.1:${p}/readyz `)),
    );
    notifiers.forEach((p, i) =>
      expect(out).toMatch(new RegExp(`notifier\\.${i + 1} +http://127\\.0\\.0\\.1:${p}/readyz `)),
    );
    // each replica's log lines carry its name
    for (const name of ['api.3', 'worker.2', 'notifier.2'])
      expect(out).toMatch(new RegExp(`^${name.replace('.', '\\.')} +\\{`, 'm'));

    // requests through nginx reach every api replica; X-Upstream names the one that answered
    const answeredBy = async (n: number) => {
      const seen = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${nginx}/readyz`);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        // "a, b" when nginx moved on from a to b: b answered
        const upstream = String(res.headers.get('x-upstream')).split(', ').at(-1)!;
        seen.set(upstream, (seen.get(upstream) ?? 0) + 1);
      }
      return seen;
    };
    const spread = await answeredBy(30);
    console.log(`[measure] 30 requests through nginx: ${JSON.stringify(Object.fromEntries(spread))}`);
    expect([...spread.keys()].sort()).toEqual(api.map((p) => `127.0.0.1:${p}`).sort());

    // a WebSocket through nginx: the api's welcome, then a ping answered
    const ws = new WebSocket(`ws://127.0.0.1:${ports['PORT']}/ws`);
    const frames: string[] = [];
    ws.onmessage = (e) => frames.push(String(e.data));
    const frame = async (type: string) => {
      for (let i = 0; i < 200; i++) {
        const found = frames.find((f) => (JSON.parse(f) as { type: string }).type === type);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${type} frame through nginx; got ${JSON.stringify(frames)}`);
    };
    await frame('welcome');
    ws.send(JSON.stringify({ op: 'ping' }));
    await frame('pong');
    ws.close();

    // exactly one worker leads the feeds (a Postgres advisory lock), and stays the only one
    const leaders = async () => {
      const states = await Promise.all(
        workers.map(
          async (p) =>
            ((await (await fetch(`http://127.0.0.1:${p}/readyz`)).json()) as WorkerReady).feeds?.binance?.leader,
        ),
      );
      return states.filter((l) => l === true).length;
    };
    let count = 0;
    for (let i = 0; i < 300 && count !== 1; i++) {
      count = await leaders();
      if (count !== 1) await new Promise((r) => setTimeout(r, 100));
    }
    expect(count).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await leaders()).toBe(1);
    for (const p of notifiers) expect((await fetch(`http://127.0.0.1:${p}/readyz`)).status).toBe(200);

    // an api replica that exits is reported; nginx sends everything to the two left
    const pid = Number(new RegExp(`api\\.2 +http://\\S+ +\\(pid (\\d+)\\)`).exec(out)?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await run.waitFor(new RegExp(`api\\.2 \\(pid ${pid}\\) exited with 1: 2 of 3 api replicas run`), 10_000);
    const failover = performance.now();
    const after = await answeredBy(12);
    console.log(
      `[measure] 12 requests through nginx with api.2 killed: ${(performance.now() - failover).toFixed(0)} ms`,
    );
    expect([...after.keys()].sort()).toEqual([api[0], api[2]].map((p) => `127.0.0.1:${p}`).sort());

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(leftOver()).toEqual([]);
    await expect(fetch(`${nginx}/readyz`)).rejects.toThrow();
  });

  it('after a kill -9 of the bootstrap, the next start stops the nginx and replicas it left', async () => {
    const first = runBootstrap(checkout, env, ['start', '--replicas', 'api=2']);
    run = first;
    await first.waitFor(/Ctrl-C stops everything/, 240_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const leftTemp = /proxy_temp_path (\S+)\/proxy;/.exec(
      readFileSync(join(checkout, '.data', 'nginx', 'nginx.conf'), 'utf8'),
    )![1]!;
    expect(leftOver().filter((p) => /nginx: master/.test(p.cmd))).toHaveLength(1);

    const second = runBootstrap(checkout, env, ['start', '--replicas', 'api=2']);
    run = second;
    await second.waitFor(/Ctrl-C stops everything/, 240_000);
    expect(second.output()).toMatch(/nginx: stopping pid \d+, left running by a previous run/);
    expect(second.output()).toMatch(/api: stopping pid \d+, left running by a previous run/);
    const mine = leftOver();
    expect(mine.filter((p) => /nginx: master/.test(p.cmd))).toHaveLength(1);
    expect(mine.filter((p) => /apps\/api\/src\/main\.ts/.test(p.cmd))).toHaveLength(2);
    expect((await fetch(`http://127.0.0.1:${ports['PORT']}/readyz`)).status).toBe(200);

    // as root, the nginx workers' temp dir lies outside the 0700 checkout: the one the killed run left
    // was taken over, and is gone after the stop
    const temp = /proxy_temp_path (\S+)\/proxy;/.exec(
      readFileSync(join(checkout, '.data', 'nginx', 'nginx.conf'), 'utf8'),
    )![1]!;
    expect(temp).toBe(leftTemp);
    expect(existsSync(temp)).toBe(true);

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(130);
    expect(leftOver()).toEqual([]);
    if (isRoot) expect(existsSync(temp)).toBe(false);
  });
});
