// How the live session's errors read in the CLI: message, exit code and hint per server error code.
import { LiveError } from '@ratewire/client/live-session';
import { describe, expect, it } from 'vitest';

import { CliError, EXIT } from '../core/exit-codes.ts';
import { liveCliError } from './live-errors.ts';

describe('liveCliError', () => {
  it('unauthorized: exit 4 and how to log in', () => {
    const err = liveCliError(new LiveError('the token is invalid or expired', 'unauthorized'));
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({
      message: 'the token is invalid or expired (unauthorized)',
      exitCode: EXIT.auth,
      hint: 'run `ratewire login` (or set RATEWIRE_TOKEN)',
    });
  });

  it('bad_request: a usage error; any other code: exit 1, without a hint', () => {
    expect(liveCliError(new LiveError('since is not a frame id', 'bad_request'))).toMatchObject({
      message: 'since is not a frame id (bad_request)',
      exitCode: EXIT.usage,
      hint: undefined,
    });
    expect(liveCliError(new LiveError('open to the job’s owner only', 'forbidden'))).toMatchObject({
      message: 'open to the job’s owner only (forbidden)',
      exitCode: EXIT.error,
      hint: undefined,
    });
  });

  it('a frame that is not JSON', () => {
    expect(liveCliError(new LiveError('x', 'invalid_frame'))).toMatchObject({
      message: 'the service sent a frame that is not JSON',
      exitCode: EXIT.error,
      hint: undefined,
    });
  });

  it('any other error, such as a CliError given to fail(), is kept as it is', () => {
    const mine = new CliError('interrupted', EXIT.interrupted);
    expect(liveCliError(mine)).toBe(mine);
  });
});
