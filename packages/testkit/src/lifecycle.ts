import { spawnApp, type AppProcess } from './process.ts';

export interface StopResult {
  code: number | string;
  /** Log lines at error level or above, and anything that looks like an uncaught exception. */
  errors: string[];
  output: string[];
}

/**
 * Starts an app as a real process, waits for its ready line, sends SIGTERM and returns how it
 * ended. Rejects when it is still running `limitMs` after the signal.
 */
export async function startThenTerminate(
  app: 'api' | 'worker' | 'notifier',
  env: Record<string, string>,
  ready: RegExp,
  limitMs = 5000,
): Promise<StopResult> {
  const proc: AppProcess = spawnApp(app, env);
  try {
    await proc.waitForLine(ready, 30_000);
  } catch (err) {
    proc.child.kill('SIGKILL');
    throw err;
  }
  proc.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    proc.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        proc.child.kill('SIGKILL');
        reject(new Error(`${app} still running ${limitMs} ms after SIGTERM; output:\n${proc.output.join('\n')}`));
      }, limitMs);
    }),
  ]).finally(() => clearTimeout(timer));
  const errors = proc.output.filter(
    (l) =>
      /"level":"(error|fatal)"/.test(l) || /^(\w*Error|Uncaught|node:internal)/.test(l) || /\bat .*\.ts:\d+/.test(l),
  );
  return { code, errors, output: proc.output };
}

/** Runs an app with a bad environment and returns its exit code and stderr/stdout lines. */
export async function runWithBadSettings(app: 'api' | 'worker' | 'notifier', env: Record<string, string>) {
  const proc = spawnApp(app, env);
  const code = await proc.exited;
  return { code, output: proc.output };
}
