import { describe, expect, it } from 'vitest';

import { DEV_JWT_SECRET, LOCAL_URLS, apiSettingsSchema, workerSettingsSchema } from '@ratewire/contracts';

import { SettingsError, parseSettings } from '../src/settings.ts';

function errorKeys(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof SettingsError) return err.issues.map((i) => i.key);
    throw err;
  }
  throw new Error('expected a SettingsError');
}

describe('api settings', () => {
  it('fills every default from an empty environment', () => {
    const s = parseSettings(apiSettingsSchema, {});
    expect(s.PORT).toBe(8000);
    expect(s.DATABASE_URL).toBe(LOCAL_URLS.DATABASE_URL);
    expect(s.NATS_URL).toEqual([LOCAL_URLS.NATS_URL]);
    expect(s.JWT_SECRET).toBe(DEV_JWT_SECRET);
    expect(s.CBR_BASE_URL).toBe('https://www.cbr.ru');
    expect(s.LOG_LEVEL).toBe('info');
  });

  it('names the key of a bad value', () => {
    expect(errorKeys(() => parseSettings(apiSettingsSchema, { PORT: 'eighty' }))).toEqual(['PORT']);
    expect(errorKeys(() => parseSettings(apiSettingsSchema, { DATABASE_URL: 'mysql://x/y' }))).toEqual([
      'DATABASE_URL',
    ]);
    expect(errorKeys(() => parseSettings(apiSettingsSchema, { LOG_LEVEL: 'loud', PORT: '70000' })).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
    ]);
  });

  it('refuses the development JWT secret in production', () => {
    expect(errorKeys(() => parseSettings(apiSettingsSchema, { NODE_ENV: 'production' }))).toEqual(['JWT_SECRET']);
    const s = parseSettings(apiSettingsSchema, { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(s.JWT_SECRET).toBe('x'.repeat(40));
  });

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    expect(errorKeys(() => parseSettings(apiSettingsSchema, { ADMIN_EMAIL: 'a@b.example' }))).toEqual([
      'ADMIN_PASSWORD',
    ]);
    expect(
      parseSettings(apiSettingsSchema, { ADMIN_EMAIL: 'a@b.example', ADMIN_PASSWORD: 'secret-pass' }).ADMIN_EMAIL,
    ).toBe('a@b.example');
  });

  it('treats an empty value as unset', () => {
    expect(parseSettings(apiSettingsSchema, { PORT: '' }).PORT).toBe(8000);
  });
});

describe('worker settings', () => {
  it('parses host lists and retry schedules', () => {
    const s = parseSettings(workerSettingsSchema, {
      CALLBACK_ALLOWED_HOSTS: 'Receiver.local, 127.0.0.1 ,',
      CALLBACK_RETRY_SCHEDULE_MS: '0,100,200',
    });
    expect(s.CALLBACK_ALLOWED_HOSTS).toEqual(['receiver.local', '127.0.0.1']);
    expect(s.CALLBACK_RETRY_SCHEDULE_MS).toEqual([0, 100, 200]);
  });

  it('names a bad poll interval and a bad callback URL', () => {
    expect(
      errorKeys(() =>
        parseSettings(workerSettingsSchema, { CBR_POLL_INTERVAL_MS: '5', EXCHANGE_CALLBACK_URL: 'ftp://x' }),
      ).sort(),
    ).toEqual(['CBR_POLL_INTERVAL_MS', 'EXCHANGE_CALLBACK_URL']);
  });
});
