// `callbacks listen` against the whole stack: a real exchange job's signed callback reaches the
// listener, is verified and forwarded as it came; forged, stale and oversized requests are refused.
import { signWebhook, webhookSecretKey } from '@ratewire/webhooks';
import { startReceiver, type Receiver } from '@ratewire/testkit/callback-receiver';
import { freePort } from '@ratewire/testkit';
import { startStack, type Stack, type StackUser } from '@ratewire/testkit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cliRunner, type CliProcess, type CliRunner } from './cli-harness.ts';

let stack: Stack;
let cli: CliRunner;
let user: StackUser;
let receiver: Receiver;
let secret: string;

beforeAll(async () => {
  stack = await startStack();
  user = await stack.user();
  cli = cliRunner({ RATEWIRE_URL: stack.url, RATEWIRE_TOKEN: user.token });
  receiver = await startReceiver();
  const res = await fetch(`${stack.url}/api/v1/webhooks/secret`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  secret = ((await res.json()) as { secret: string }).secret;
}, 120_000);

afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

/** Starts a listener on a free port; resolves with it and its URL once it listens. */
async function listen(args: string[] = [], env?: Record<string, string>): Promise<{ proc: CliProcess; url: string }> {
  const port = await freePort();
  const proc = cli.start(['callbacks', 'listen', '--port', String(port), ...args], { env });
  await proc.waitFor((t) => t.includes('give it as the callback_url'), { stream: 'stderr' });
  return { proc, url: `http://127.0.0.1:${port}/` };
}

function signed(body: string, key = secret, timestamp = Math.floor(Date.now() / 1000)) {
  const id = `msg_test_${Math.random().toString(36).slice(2)}`;
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(webhookSecretKey(key), id, timestamp, body),
  };
}

describe('callbacks listen', () => {
  it('verifies a real job callback with the account’s secret, forwards it as it came and answers the forward’s status', async () => {
    receiver.received.length = 0;
    const { proc, url } = await listen(['--forward-to', receiver.url]);
    expect(proc.stderr()).toContain(`Listening on ${url} `);
    const requestId = `listen-${Date.now()}`;
    const res = await fetch(`${stack.url}/api/v1/exchange-jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        request_id: requestId,
        exchange_rate: '75.5',
        bills: [{ denomination_id: 1, denomination: 50, count: 1 }],
        callback_url: url,
      }),
    });
    expect(res.status).toBe(202);
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    const line = await proc.waitFor((t) => t.includes(`request ${requestId}`), { timeoutMs: 30_000 });
    expect(line).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} {2}verified {2}job\\.result {2}request ${requestId}: denomination 1 3775(\\.0+)? RUB {2}→ 200$`,
        'm',
      ),
    );
    expect(receiver.received).toHaveLength(1);
    const forwarded = receiver.received[0]!;
    expect(forwarded.method).toBe('PUT');
    expect(JSON.parse(forwarded.body)).toMatchObject({ request_id: requestId, breakdown: [{ denomination_id: 1 }] });
    expect(forwarded.body).not.toContain('token');
    // the receiver can verify the forward itself: same id, timestamp, signature and bytes
    const sig = forwarded.headers['webhook-signature'] as string;
    const ts = Number(forwarded.headers['webhook-timestamp']);
    expect(sig.split(' ')).toContain(
      signWebhook(webhookSecretKey(secret), forwarded.headers['webhook-id'] as string, ts, forwarded.body),
    );
    // the service saw the forward's 200: the callback is delivered
    await expect
      .poll(
        async () => {
          const job = await fetch(`${stack.url}/api/v1/exchange-jobs/${jobId}`, {
            headers: { authorization: `Bearer ${user.token}` },
          });
          return ((await job.json()) as { callback?: { state?: string } }).callback?.state;
        },
        { timeout: 15_000 },
      )
      .toBe('delivered');
    proc.interrupt();
    expect((await proc.done).code).toBe(130);
  }, 60_000);

  it('refuses a forged signature (400), a stale timestamp (400) and a body over 1 MiB (413); forwards none', async () => {
    receiver.received.length = 0;
    const { proc, url } = await listen(['--forward-to', receiver.url]);
    const body = JSON.stringify({ request_id: 'forged', breakdown: [{ denomination_id: 1, subtotal_rub: 1 }] });
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const forged = await fetch(url, { method: 'PUT', headers: signed(body, other), body });
    expect(forged.status).toBe(400);
    const stale = await fetch(url, {
      method: 'PUT',
      headers: signed(body, secret, Math.floor(Date.now() / 1000) - 600),
      body,
    });
    expect(stale.status).toBe(400);
    const tampered = await fetch(url, {
      method: 'PUT',
      headers: signed(body),
      body: body.replace('forged', 'altered'),
    });
    expect(tampered.status).toBe(400);
    const big = `{"pad":"${'x'.repeat(1024 * 1024)}"}`;
    const huge = await fetch(url, { method: 'POST', headers: signed(big), body: big });
    expect(huge.status).toBe(413);
    const lines = (await proc.waitFor((t) => t.split('\n').length > 4)).trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/ {2}REJECTED {2}- {2}the signature does not match the webhook secret$/),
      expect.stringMatching(/ {2}REJECTED {2}- {2}webhook-timestamp is 60\d s off this clock \(at most 300 s\)$/),
      expect.stringMatching(/ {2}REJECTED {2}- {2}the signature does not match the webhook secret$/),
      expect.stringMatching(/ {2}REJECTED {2}- {2}the body is over 1 MiB$/),
    ]);
    expect(receiver.received).toHaveLength(0);
    proc.interrupt();
    await proc.done;
  });

  it('with --secret and no forward target answers 200, prints --json lines, and exits after --count', async () => {
    const port = await freePort();
    const proc = cli.start(
      ['callbacks', 'listen', '--port', String(port), '--secret', secret, '--json', '--count', '2'],
      { env: { RATEWIRE_TOKEN: '' } },
    );
    await proc.waitFor((t) => t.includes('Not forwarding'), { stream: 'stderr' });
    const url = `http://127.0.0.1:${port}/`;
    const alert = JSON.stringify({
      type: 'alert.triggered',
      alert_id: '3a4b5c6d-7e8f-4a9b-8c0d-1e2f3a4b5c6d',
      event_id: '9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
      test: true,
      source: 'binance',
      symbol: 'BTCUSDT',
      condition: { type: 'above', level: '90000' },
      observed: { value: '97000.01', previous: null, at: '2026-12-01T09:30:00.000Z' },
    });
    const ok = await fetch(url, { method: 'POST', headers: signed(alert), body: alert });
    expect(ok.status).toBe(200);
    const unsigned = await fetch(url, { method: 'POST', body: alert });
    expect(unsigned.status).toBe(400);
    const r = await proc.done;
    expect(r.code).toBe(0);
    const [first, second] = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      verified: true,
      type: 'alert.triggered',
      summary: 'alert 3a4b5c6d… binance BTCUSDT above 90000: 97000.01 [test]',
    });
    expect(second).toMatchObject({ verified: false, reason: expect.stringMatching(/no webhook-id/) as unknown });
  });

  it('without a login or --secret it cannot verify: exit 4; a bad --secret is a usage error', async () => {
    const none = await cli.run(['callbacks', 'listen', '--port', '0'], { env: { RATEWIRE_TOKEN: '' } });
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/^error: not logged in: the webhook secret/);
    const bad = await cli.run(['callbacks', 'listen', '--port', '0', '--secret', 'whsec_short']);
    expect(bad.code).toBe(2);
  });
});
