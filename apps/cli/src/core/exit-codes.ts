// The exit codes every command keeps (documented in the README and in `ratewire --help`).
export const EXIT = {
  ok: 0,
  /** Anything that went wrong that is not one of the cases below. */
  error: 1,
  /** The command line itself is wrong: unknown command or option, a value that does not parse. */
  usage: 2,
  /** The thing named does not exist (an HTTP 404). */
  notFound: 3,
  /** The command needs credentials that are missing, expired or refused (no token, an HTTP 401). */
  auth: 4,
  /** A watched job failed, or a watched alert's condition (with `--exit-status`) did. */
  failed: 5,
  /** Stopped by Ctrl-C (SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0    ok
  1    error
  2    usage (a wrong command line)
  3    not found
  4    authentication needed (log in, or set RATEWIRE_TOKEN)
  5    the watched job or alert failed
  130  interrupted (Ctrl-C)`;

/** An error a command reports as one line on stderr and an exit code; nothing else is printed. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** What to do about it, printed on a second line. */
  readonly hint: string | undefined;
  constructor(message: string, exitCode: ExitCode = EXIT.error, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export const usageError = (message: string, hint?: string) => new CliError(message, EXIT.usage, hint);
