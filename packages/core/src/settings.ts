import type { z } from 'zod';

export class SettingsError extends Error {
  readonly issues: { key: string; message: string }[];
  constructor(issues: { key: string; message: string }[]) {
    super(`invalid settings: ${issues.map((i) => `${i.key} ${i.message}`).join('; ')}`);
    this.name = 'SettingsError';
    this.issues = issues;
  }
}

/**
 * Parses the environment with an app's settings schema. Throws SettingsError naming every bad key.
 * Empty strings count as unset, so `FOO=` in a compose file falls back to the default.
 */
export function parseSettings<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new SettingsError(
    result.error.issues.map((issue) => ({
      key: issue.path.length ? issue.path.map(String).join('.') : '(settings)',
      message: issue.message,
    })),
  );
}

/** parseSettings for a process entry point: a bad value stops the process with a clear message. */
export function loadSettings<S extends z.ZodType>(app: string, schema: S): z.output<S> {
  try {
    return parseSettings(schema);
  } catch (err) {
    if (err instanceof SettingsError) {
      for (const { key, message } of err.issues) process.stderr.write(`${app}: invalid setting ${key}: ${message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
