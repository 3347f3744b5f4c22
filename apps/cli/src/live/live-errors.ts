// The CLI's side of the shared live session (@ratewire/client/live-session): the service's reasons
// for ending it, as the CLI reports them (message, exit code, what to do).
import { LiveError, type LiveSession } from '@ratewire/client/live-session';

import { CliError, EXIT } from '../core/exit-codes.ts';

/** A LiveError as a CliError; any other error (one given to `fail`) as it is. */
export function liveCliError(err: unknown): unknown {
  if (!(err instanceof LiveError)) return err;
  if (err.code === 'invalid_frame') return new CliError('the service sent a frame that is not JSON');
  const exit = err.code === 'unauthorized' ? EXIT.auth : err.code === 'bad_request' ? EXIT.usage : EXIT.error;
  const hint = err.code === 'unauthorized' ? 'run `ratewire login` (or set RATEWIRE_TOKEN)' : undefined;
  return new CliError(`${err.message} (${err.code})`, exit, hint);
}

/** The session's `done`, rejecting with CliErrors: resolves once it was closed. */
export function liveEnd(session: LiveSession): Promise<void> {
  return session.done.catch((err: unknown) => {
    throw liveCliError(err);
  });
}
