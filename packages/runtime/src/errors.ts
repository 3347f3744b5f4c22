// What any process asks of an error: its message, and whether it means Postgres, Redis or NATS is out of reach.
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  // Postgres: admin shutdown, crash shutdown, cannot connect now
  '57P01',
  '57P02',
  '57P03',
  // nats.js
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'DISCONNECT',
  'CONNECTION_REFUSED',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection is closed', // ioredis
  "Stream isn't writeable", // ioredis without an offline queue
  'timeout exceeded when trying to connect', // pg pool
  'Connection terminated', // pg
];

/**
 * True when an error means Postgres, Redis or NATS cannot be reached right now: an outage to report
 * as 503 and retry, not a bug.
 */
export function isUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true; // ioredis gave up on a command
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  if (UNAVAILABLE_MESSAGES.some((m) => err.message.includes(m))) return true;
  return err.cause !== undefined && err.cause !== err && isUnavailableError(err.cause);
}
