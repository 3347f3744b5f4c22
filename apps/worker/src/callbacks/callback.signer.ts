// Standard Webhooks signing: `v1,` + base64(HMAC-SHA256(secret, `${id}.${timestamp}.${body}`)).
// The secret is the UTF-8 bytes of EXCHANGE_CALLBACK_TOKEN (the contract's choice, not whsec_ base64).
import { createHmac, timingSafeEqual } from 'node:crypto';

import { jsonNumber } from '@ratewire/core/json';

export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** Receiver side, as a client would check it: any `v1,` entry of the space-separated header matches. */
export function verifyWebhook(secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  const expected = Buffer.from(signWebhook(secret, id, Number(timestamp), body));
  return header.split(' ').some((candidate) => {
    const got = Buffer.from(candidate);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

export interface CallbackLine {
  denomination_id: number;
  /** Exact decimal string, 2 places. */
  subtotal_rub: string;
}

/** The seed's body: subtotal_rub is a JSON number written digit for digit from the decimal. */
export function callbackBody(token: string | null, requestId: string, breakdown: readonly CallbackLine[]): string {
  return JSON.stringify({
    token,
    request_id: requestId,
    breakdown: breakdown.map((b) => ({ denomination_id: b.denomination_id, subtotal_rub: jsonNumber(b.subtotal_rub) })),
  });
}

/** The webhook id of a job's callback: the same on every attempt. */
export const webhookIdFor = (jobId: string) => `msg_${jobId}`;
