// Standard Webhooks primitives, written once for the api (which issues users' webhook secrets) and
// the worker (which signs callbacks). A user's secret is `whsec_` + base64 of random bytes; its HMAC
// key is the decoded bytes. The operator's EXCHANGE_CALLBACK_TOKEN is keyed by its UTF-8 bytes
// instead (the first-stage contract); callers pick the key, these functions only sign and check.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Random bytes in a new secret (the contract allows 24–64). */
export const WEBHOOK_SECRET_BYTES = 32;
const MIN_BYTES = 24;
const MAX_BYTES = 64;
const SECRET_RE = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** A new user webhook secret: `whsec_` + base64 of `bytes` random bytes. */
export function generateWebhookSecret(bytes = WEBHOOK_SECRET_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < MIN_BYTES || bytes > MAX_BYTES) {
    throw new RangeError(`a webhook secret has ${MIN_BYTES}–${MAX_BYTES} random bytes`);
  }
  return WEBHOOK_SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/**
 * The HMAC key of a `whsec_` secret: its base64 part decoded. Throws for anything else, without
 * quoting the value (it is a secret).
 */
export function webhookSecretKey(secret: string): Buffer {
  const encoded = SECRET_RE.exec(secret)?.[1];
  const key = encoded === undefined ? null : Buffer.from(encoded, 'base64');
  if (!key || key.toString('base64') !== encoded || key.length < MIN_BYTES || key.length > MAX_BYTES) {
    throw new TypeError(`not a webhook secret (expected ${WEBHOOK_SECRET_PREFIX} + base64 of 24–64 bytes)`);
  }
  return key;
}

/** One `webhook-signature` entry: `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)). */
export function signWebhook(key: Uint8Array, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** Receiver side, as a client checks it: any `v1,` entry of the space-separated header matches `key`. */
export function verifyWebhook(key: Uint8Array, id: string, timestamp: string, body: string, header: string): boolean {
  const expected = Buffer.from(signWebhook(key, id, Number(timestamp), body));
  return header.split(' ').some((candidate) => {
    const got = Buffer.from(candidate);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
