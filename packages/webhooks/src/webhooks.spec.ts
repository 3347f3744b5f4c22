import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { generateWebhookSecret, signWebhook, verifyWebhook, webhookSecretKey } from './webhooks.ts';

describe('generateWebhookSecret', () => {
  it('is whsec_ + base64 of 32 random bytes, different every time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('takes 24 to 64 bytes and nothing else', () => {
    expect(webhookSecretKey(generateWebhookSecret(24))).toHaveLength(24);
    expect(webhookSecretKey(generateWebhookSecret(64))).toHaveLength(64);
    expect(() => generateWebhookSecret(23)).toThrow(RangeError);
    expect(() => generateWebhookSecret(65)).toThrow(RangeError);
  });
});

describe('webhookSecretKey', () => {
  it('is the decoded bytes of the base64 part', () => {
    const key = Buffer.alloc(24, 7);
    expect(webhookSecretKey(`whsec_${key.toString('base64')}`).equals(key)).toBe(true);
  });

  it('refuses anything that is not a whsec_ secret, without quoting it', () => {
    const short = `whsec_${Buffer.alloc(16).toString('base64')}`;
    for (const bad of ['', 'callback-secret', short, 'whsec_', 'whsec_!!!!', `whsec_${'A'.repeat(33)}`]) {
      expect(() => webhookSecretKey(bad), bad).toThrow(/not a webhook secret/);
    }
    try {
      webhookSecretKey('whsec_leaked-value');
    } catch (err) {
      expect(String(err)).not.toContain('leaked-value');
    }
  });
});

describe('signWebhook / verifyWebhook', () => {
  it('is v1,base64(HMAC-SHA256(key, id.timestamp.body)); any entry of the header may match', () => {
    const key = webhookSecretKey(generateWebhookSecret());
    const body = '{"request_id":"r-1"}';
    const sig = signWebhook(key, 'msg_1', 1700000000, body);
    const expected = createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(sig).toBe(`v1,${expected}`);
    expect(verifyWebhook(key, 'msg_1', '1700000000', body, `v1,bogus ${sig}`)).toBe(true);
    expect(verifyWebhook(key, 'msg_1', '1700000001', body, sig)).toBe(false);
    expect(verifyWebhook(key, 'msg_1', '1700000000', `${body} `, sig)).toBe(false);
    expect(verifyWebhook(Buffer.alloc(32), 'msg_1', '1700000000', body, sig)).toBe(false);
  });
});
