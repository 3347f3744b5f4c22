// The pure parts of the live commands: the callback check and reading payloads exactly.
import { signWebhook, webhookSecretKey } from '@ratewire/webhooks';
import { describe, expect, it } from 'vitest';

import { checkSignature } from './callbacks.actions.ts';
import { clock, oneLine, parseCount, readPayload } from './lines.ts';

const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const previous = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const now = 1_764_581_400;
const body = '{"request_id":"r-1","breakdown":[]}';
const headers = (signature: string, timestamp = now) => ({
  'webhook-id': 'msg_1',
  'webhook-timestamp': String(timestamp),
  'webhook-signature': signature,
});
const sign = (s: string, timestamp = now, text = body) => signWebhook(webhookSecretKey(s), 'msg_1', timestamp, text);

describe('checkSignature', () => {
  const key = webhookSecretKey(secret);

  it('accepts a signature by the secret, alone or beside another (after a rotation, either order)', () => {
    expect(checkSignature(key, headers(sign(secret)), body, now)).toEqual({ ok: true });
    expect(checkSignature(key, headers(`${sign(previous)} ${sign(secret)}`), body, now)).toEqual({ ok: true });
    expect(checkSignature(webhookSecretKey(previous), headers(`${sign(secret)} ${sign(previous)}`), body, now)).toEqual(
      { ok: true },
    );
  });

  it('refuses another secret, another body, a missing header, and a timestamp more than 5 minutes off', () => {
    expect(checkSignature(key, headers(sign(previous)), body, now)).toMatchObject({ ok: false });
    expect(checkSignature(key, headers(sign(secret)), body.replace('r-1', 'r-2'), now)).toMatchObject({ ok: false });
    expect(checkSignature(key, { 'webhook-id': 'msg_1' }, body, now)).toMatchObject({ ok: false });
    expect(checkSignature(key, headers(sign(secret, now - 300), now - 300), body, now)).toEqual({ ok: true });
    expect(checkSignature(key, headers(sign(secret, now - 301), now - 301), body, now)).toEqual({
      ok: false,
      reason: 'webhook-timestamp is 301 s off this clock (at most 300 s)',
    });
    expect(checkSignature(key, headers(sign(secret, now + 900), now + 900), body, now)).toMatchObject({ ok: false });
    expect(checkSignature(key, headers(sign(secret), Number.NaN), body, now)).toMatchObject({
      reason: 'webhook-timestamp is not Unix seconds',
    });
  });
});

describe('readPayload', () => {
  it('keeps numbers a double cannot hold digit for digit: as strings to summarise, as written for --json', () => {
    const read = readPayload('{"USD":80.123456789012345678,"n":1,"x":2.50}');
    expect(read?.summary).toEqual({ USD: '80.123456789012345678', n: 1, x: '2.50' });
    expect(JSON.stringify(read?.exact)).toBe('{"USD":80.123456789012345678,"n":1,"x":2.50}');
  });

  it('answers undefined for text that is not JSON', () => {
    expect(readPayload('{"half": ')).toBeUndefined();
  });
});

describe('lines', () => {
  it('prints the UTC time of day to the millisecond; escapes line breaks; counts are positive whole numbers', () => {
    expect(clock('2026-12-01T09:30:00.012Z')).toBe('09:30:00.012');
    expect(oneLine('a\nb\u001bc')).toBe('a\\nb\\x1bc');
    expect(parseCount('3')).toBe(3);
    expect(() => parseCount('0')).toThrow(/positive whole number/);
    expect(() => parseCount('1.5')).toThrow(/positive whole number/);
  });
});
