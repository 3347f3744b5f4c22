import { accessSync, constants } from 'node:fs';

import type { z } from 'zod';

import { ConnectionSettingError } from './connections.ts';

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

/** Settings naming a file (`*_FILE`) that this process cannot read. */
export function unreadableFiles(settings: object): { key: string; message: string }[] {
  return Object.entries(settings).flatMap(([key, path]) => {
    if (!key.endsWith('_FILE') || typeof path !== 'string') return [];
    try {
      accessSync(path, constants.R_OK);
      return [];
    } catch (err) {
      return [{ key, message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` }];
    }
  });
}

/**
 * parseSettings for a process entry point: a bad value, or a `*_FILE` setting naming a file it
 * cannot read, stops the process with a clear message.
 */
export function loadSettings<S extends z.ZodType>(app: string, schema: S): z.output<S> {
  try {
    const settings = parseSettings(schema);
    const unreadable = unreadableFiles(settings as object);
    if (unreadable.length) throw new SettingsError(unreadable);
    return settings;
  } catch (err) {
    if (err instanceof SettingsError) {
      for (const { key, message } of err.issues) process.stderr.write(`${app}: invalid setting ${key}: ${message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * For a process entry point: a connection refused because of a setting (ConnectionSettingError)
 * stops the process like a bad setting does, with its message (exit 78); anything else is rethrown.
 */
export function exitOnSettingError(app: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof ConnectionSettingError) {
      process.stderr.write(`${app}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  };
}
