// The live commands against the whole stack: `watch` over the WebSocket (across an api restart)
// and `tail` over NATS, both run in-process while the test publishes on the stack's NATS.
import { spawn } from 'node:child_process';

import { startStack, type Stack } from '@ratewire/testkit/stack';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cliRunner, type CliRunner } from './cli-harness.ts';

let stack: Stack;
let nc: NatsConnection;
let cli: CliRunner;

beforeAll(async () => {
  stack = await startStack();
  nc = await connect({ servers: stack.nats.url });
  cli = cliRunner({ RATEWIRE_URL: stack.url, NATS_URL: stack.nats.url });
}, 120_000);

afterAll(async () => {
  await nc?.drain();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** rates.binance.updated with one changed symbol whose price carries the sequence number. */
function publishPrice(symbol: string, n: number, previous: string | null = null): void {
  nc.publish(
    'rates.binance.updated',
    JSON.stringify({ ts: new Date().toISOString(), changed: [{ symbol, price: `${n}.5`, previous }] }),
  );
}

interface Frame {
  type: string;
  channel: string;
  id: string;
  event: string;
  data: { changed: { symbol: string; price: string }[] };
  ts: string;
}

const framesOf = (stdout: string): Frame[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Frame);

describe('watch', () => {
  it('loses and repeats nothing across an api restart: the NDJSON frames are the published sequence, in order', async () => {
    const symbol = 'SEQRESTART';
    const w = cli.start(['watch', 'rates.binance', '--json']);
    await w.waitFor((t) => t.includes('watching rates.binance'), { stream: 'stderr' });
    let published = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        publishPrice(symbol, ++published);
        await sleep(15);
      }
    })();
    const mine = () => framesOf(w.stdout()).filter((f) => f.data.changed[0]?.symbol === symbol);
    await w.waitFor(() => mine().length >= 20);
    // the api stops (its sockets closed) and starts again while the events keep coming
    await stack.restartApi();
    await w.waitFor((t) => t.includes('resumed rates.binance'), { stream: 'stderr', timeoutMs: 30_000 });
    const atResume = published;
    await w.waitFor(() => mine().length >= atResume + 20, { timeoutMs: 30_000 });
    publishing = false;
    await publisher;
    await nc.flush();
    await w.waitFor(() => mine().length >= published, { timeoutMs: 30_000 });
    w.interrupt();
    const result = await w.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/connection lost: /);
    const frames = mine();
    expect(frames.map((f) => f.data.changed[0]?.price)).toEqual(
      Array.from({ length: published }, (_, i) => `${i + 1}.5`),
    );
    // each line is the frame as sent: ids strictly increasing, nothing else mixed in
    for (const f of frames) expect(Object.keys(f)).toEqual(['type', 'channel', 'id', 'event', 'data', 'ts']);
    const ids = frames.map((f) => f.id.split('-').map(BigInt));
    for (let i = 1; i < ids.length; i++) {
      const [a = 0n, b = 0n] = ids[i - 1]!;
      const [c = 0n, d = 0n] = ids[i]!;
      expect(c > a || (c === a && d > b)).toBe(true);
    }
    expect(published).toBeGreaterThan(atResume);
  }, 120_000);

  it('prints a human line per frame (time, channel, event, summary) and stops after --count', async () => {
    const w = cli.start(['watch', 'rates.binance:SEQHUMAN', 'currencies', '--count', '2']);
    await w.waitFor((t) => t.includes('watching rates.binance:SEQHUMAN, currencies'), { stream: 'stderr' });
    publishPrice('SEQHUMAN', 7, '6.25');
    await sleep(200);
    nc.publish('currencies.updates', '{"event":"rates_update","rates":{"USD":80.123456789012345678}}');
    const r = await w.done;
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} {2}rates\.binance:SEQHUMAN {2}rates\.binance\.updated {2}SEQHUMAN 7\.5 \(was 6\.25\)$/,
    );
    // an outside publisher's JSON number, forwarded as the exact decimal
    expect(lines[1]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} {2}currencies {2}currencies\.updates {2}rates_update USD 80\.123456789012345678$/,
    );
    expect(r.stdout).not.toContain('\x1b');
  }, 60_000);

  it('--since replays what came after that frame id on the channel', async () => {
    const w = cli.start(['watch', 'rates.binance:SEQSINCE', '--json', '--count', '3']);
    await w.waitFor((t) => t.includes('watching'), { stream: 'stderr' });
    for (let n = 1; n <= 3; n++) publishPrice('SEQSINCE', n);
    const first = framesOf((await w.done).stdout);
    expect(first.map((f) => (f.data as unknown as { price: string }).price)).toEqual(['1.5', '2.5', '3.5']);
    const again = await cli.run(['watch', 'rates.binance:SEQSINCE', '--json', '--since', first[0]!.id, '--count', '2']);
    expect(again.code).toBe(0);
    expect(framesOf(again.stdout).map((f) => f.id)).toEqual([first[1]!.id, first[2]!.id]);
  }, 60_000);

  it('tells a reset on stderr when the channel’s history no longer reaches back to --since', async () => {
    const w = cli.start(['watch', 'rates.binance:SEQGONE', '--since', '1-0']);
    await w.waitFor((t) => t.includes('reset rates.binance:SEQGONE: '), { stream: 'stderr' });
    expect(w.stderr()).toMatch(/frames were lost/);
    w.interrupt();
    const r = await w.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('');
  });

  it('refuses a channel that does not exist (exit 2), a private channel without a login and a refused token (exit 4)', async () => {
    const bad = await cli.run(['watch', 'rates.binance:btc usdt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: "rates\.binance:btc usdt" is not a channel\n/);
    const badSince = await cli.run(['watch', 'tasks', '--since', 'yesterday']);
    expect(badSince.code).toBe(2);
    const priv = await cli.run(['watch', 'jobs:1f6b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d']);
    expect(priv.code).toBe(4);
    expect(priv.stderr).toMatch(/^error: not logged in/);
    const refused = await cli.run(['watch', 'currencies'], { env: { RATEWIRE_TOKEN: 'not-a-token' } });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^error: .*\(unauthorized\)\n {2}run `ratewire login`/m);
  });

  it('follows the account’s own alerts channel with its token; another account’s is refused with exit 1', async () => {
    const user = await stack.user();
    const other = await stack.user();
    const env = { RATEWIRE_TOKEN: user.token };
    const w = cli.start(['watch', `alerts:${user.id}`], { env });
    await w.waitFor((t) => t.includes(`watching alerts:${user.id}`), { stream: 'stderr' });
    w.interrupt();
    expect((await w.done).code).toBe(130);
    const refused = await cli.run(['watch', `alerts:${other.id}`], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/open to that account and admins only \(forbidden\)/);
  }, 30_000);
});

describe('tail', () => {
  const currency = {
    id: 9001,
    code: 'XTS',
    name: 'Testing code',
    nominal: 10,
    rate: '12.3400',
    unit_rate: '1.234',
    updated_at: '2026-12-01T09:00:00.000Z',
    source: 'api',
  };

  it('prints time, subject and the catalogue’s summary for each message; a payload that is not JSON is shown', async () => {
    const t = cli.start(['tail', 'tailtest.>', 'currencies.created', '--count', '3']);
    await t.waitFor((s) => s.includes('following tailtest.> currencies.created on '), { stream: 'stderr' });
    nc.publish('currencies.created', JSON.stringify(currency));
    nc.publish('currencies.deleted', JSON.stringify({ id: 1, code: 'USD' })); // not followed
    nc.publish('tailtest.broken', '{"half": ');
    nc.publish('tailtest.deep.any', '{"event":"x","n":1}');
    const r = await t.done;
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /^\d\d:\d\d:\d\d\.\d{3} {2}currencies\.created {2}currency XTS 12\.3400 per 10 created \(id 9001, api\)$/,
      ),
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} {2}tailtest\.broken {2}\(not JSON\) \{"half": $/),
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} {2}tailtest\.deep\.any {2}\{"event":"x","n":1\}$/),
    ]);
  });

  it('--json prints {time, subject, data} with numbers digit for digit; --raw prints the payload as it came', async () => {
    const j = cli.start(['tail', 'currencies.updates', '--json', '--count', '2']);
    await j.waitFor((s) => s.includes('following'), { stream: 'stderr' });
    nc.publish('currencies.updates', '{"event":"rates_update","rates":{"USD":80.123456789012345678,"EUR":92.5}}');
    nc.publish('currencies.updates', 'not json at all');
    const r = await j.done;
    const [first, second] = r.stdout.trimEnd().split('\n');
    expect(first).toMatch(
      /^\{"time":"[^"]+","subject":"currencies\.updates","data":\{"event":"rates_update","rates":\{"USD":80\.123456789012345678,"EUR":92\.5\}\}\}$/,
    );
    expect(JSON.parse(second!)).toMatchObject({ subject: 'currencies.updates', text: 'not json at all' });

    const raw = cli.start(['tail', 'currencies.updates', '--raw', '--count', '1']);
    await raw.waitFor((s) => s.includes('following'), { stream: 'stderr' });
    nc.publish('currencies.updates', '{"event":"rates_update",  "rates":{"USD":80.10}}');
    expect((await raw.done).stdout).toBe('{"event":"rates_update",  "rates":{"USD":80.10}}\n');
  });

  it('follows everything by default (>), ends with 130 on Ctrl-C, and names an unreachable server', async () => {
    const t = cli.start(['tail']);
    await t.waitFor((s) => s.includes('following > on '), { stream: 'stderr' });
    nc.publish(
      'tasks.rates-refresh.done',
      JSON.stringify({ task_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', status: 'done' }),
    );
    await t.waitFor((s) => /tasks\.rates-refresh\.done {2}task 7c9e6679… done/.test(s));
    t.interrupt();
    expect((await t.done).code).toBe(130);
    const bad = await cli.run(['tail', 'a..b']);
    expect(bad.code).toBe(2);
    const down = await cli.run(['tail', '--server', 'nats://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error: cannot reach NATS at nats:\/\/127\.0\.0\.1:1: /);
  });
});

describe('the ratewire process (the bundle when built, else the source)', () => {
  const bin = new URL('../bin/ratewire.js', import.meta.url).pathname;

  function spawnCli(args: string[]) {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...cli.env, NATS_URL: stack.nats.url, RATEWIRE_URL: stack.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = async (test: () => boolean) => {
      for (let i = 0; i < 200 && !test(); i++) await sleep(50);
      expect(test(), `${out.stdout}\n${out.stderr}`).toBe(true);
    };
    return { child, out, exited, until };
  }

  it('tail loads nats and prints the message', async () => {
    const p = spawnCli(['tail', 'proctest.>', '--count', '1']);
    await p.until(() => p.out.stderr.includes('following proctest.>'));
    nc.publish('proctest.one', JSON.stringify({ id: 1, code: 'USD' }));
    expect(await p.exited).toBe(0);
    expect(p.out.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}proctest\.one {2}\{"id":1,"code":"USD"\}\n$/);
  }, 30_000);

  it('watch ends with 130 on SIGINT', async () => {
    const p = spawnCli(['watch', 'tasks']);
    await p.until(() => p.out.stderr.includes('watching tasks'));
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(130);
  }, 30_000);
});
