/** The one error type services throw; the api turns it into problem+json. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: { path: string; message: string }[] | undefined;
  constructor(status: number, code: string, message: string, errors?: { path: string; message: string }[]) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);

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
