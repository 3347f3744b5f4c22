// The one signing rule for every callback Ratewire sends (exchange-job results and alert firings), in
// Standard Webhooks form: `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
// Who named the address decides the key and the body:
// - the deployment's own EXCHANGE_CALLBACK_URL keeps the first-stage shape: the body carries
//   `token` (EXCHANGE_CALLBACK_TOKEN) and the key is that token's UTF-8 bytes;
// - an address a user supplied never sees EXCHANGE_CALLBACK_TOKEN: the body has no `token` and the
//   key is the user's own webhook secret (the decoded bytes of `whsec_…`); while a replaced secret
//   still verifies, a second signature with it follows, space-separated.
import { jsonNumber } from '@ratewire/money';
import { signWebhook, webhookSecretKey } from '@ratewire/webhooks';

/** The keys of one callback, by who named its address. */
export type CallbackKeys =
  /** EXCHANGE_CALLBACK_URL, configured by the operator. `token` null: sent as null and unsigned. */
  | { target: 'operator'; token: string | null }
  /** A `callback_url` a user supplied: that user's current secret, then the previous one while it verifies. */
  | { target: 'user'; current: string; previous: string | null };

/** A callback body without `token`: the signer adds it for the operator's address only. */
export type CallbackPayload = Record<string, unknown> & { token?: never };

export interface SignedCallback {
  /** The exact bytes to send (and that were signed). */
  body: string;
  /** The `webhook-signature` header; null only for the operator's address without a token. */
  signature: string | null;
}

export function signCallback(
  keys: CallbackKeys,
  webhookId: string,
  timestamp: number,
  payload: CallbackPayload,
): SignedCallback {
  if (Object.hasOwn(payload, 'token')) throw new TypeError('a callback payload never carries `token` itself');
  if (keys.target === 'operator') {
    const body = JSON.stringify({ token: keys.token, ...payload });
    const signature = keys.token ? signWebhook(Buffer.from(keys.token, 'utf8'), webhookId, timestamp, body) : null;
    return { body, signature };
  }
  const body = JSON.stringify(payload);
  const secrets = keys.previous ? [keys.current, keys.previous] : [keys.current];
  const signature = secrets.map((s) => signWebhook(webhookSecretKey(s), webhookId, timestamp, body)).join(' ');
  return { body, signature };
}

export interface CallbackLine {
  denomination_id: number;
  /** Exact decimal string, 2 places. */
  subtotal_rub: string;
}

/** A job's result in the async exchange service’s shape: subtotal_rub is a JSON number written digit for digit from the decimal. */
export function jobCallbackPayload(requestId: string, breakdown: readonly CallbackLine[]): CallbackPayload {
  return {
    request_id: requestId,
    breakdown: breakdown.map((b) => ({ denomination_id: b.denomination_id, subtotal_rub: jsonNumber(b.subtotal_rub) })),
  };
}

/** The webhook id of a job's callback: the same on every attempt. */
export const webhookIdFor = (jobId: string) => `msg_${jobId}`;
