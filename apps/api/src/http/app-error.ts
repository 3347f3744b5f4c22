/** The one error type services throw; the api turns it into problem+json. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: { path: string; message: string }[] | undefined;
  /** Headers the answer carries (`Retry-After` of a 429). */
  readonly headers: Record<string, string> | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    errors?: { path: string; message: string }[],
    headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.headers = headers;
  }
}

export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
