import { describe, expect, it } from 'vitest';

import {
  DEV_JWT_SECRET,
  LOCAL_URLS,
  apiSettingsSchema,
  notifierSettingsSchema,
  parseRedisClusterUrl,
  workerSettingsSchema,
} from '@ratewire/contracts';

import { SettingsError, parseSettings, unreadableFiles } from '../src/settings.ts';

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

describe('worker mail settings', () => {
  it('defaults: no SMTP_URL (mail stays queued), a no-reply sender, links to http://localhost:8000', () => {
    const s = parseSettings(workerSettingsSchema, {});
    expect(s.SMTP_URL).toBeUndefined();
    expect(s.MAIL_FROM).toEqual({ name: 'Ratewire', address: 'no-reply@ratewire.localhost' });
    expect(s.PUBLIC_BASE_URL).toBe('http://localhost:8000');
    expect(s.MAIL_RETRY_SCHEDULE_MS).toEqual([0, 10000, 60000, 300000, 1800000, 7200000]);
    expect(s.MAIL_MAX_ATTEMPTS).toBe(8);
  });

  it('reads a quoted display name or a bare address, and PUBLIC_BASE_URL without its trailing slash', () => {
    const s = parseSettings(workerSettingsSchema, {
      SMTP_URL: 'smtps://mailer:s3cret@mail.example:465',
      MAIL_FROM: '"Ratewire, Rates" <rates@ratewire.example>',
      PUBLIC_BASE_URL: 'https://ratewire.example/app/',
    });
    expect(s.SMTP_URL).toBe('smtps://mailer:s3cret@mail.example:465');
    expect(s.MAIL_FROM).toEqual({ name: 'Ratewire, Rates', address: 'rates@ratewire.example' });
    expect(s.PUBLIC_BASE_URL).toBe('https://ratewire.example/app');
    expect(parseSettings(workerSettingsSchema, { MAIL_FROM: 'a@ratewire.example' }).MAIL_FROM).toEqual({
      name: '',
      address: 'a@ratewire.example',
    });
  });

  it('names SMTP_URL, MAIL_FROM and PUBLIC_BASE_URL when they are not what they should be', () => {
    expect(
      errorKeys(() =>
        parseSettings(workerSettingsSchema, {
          SMTP_URL: 'http://mail.example',
          MAIL_FROM: 'Ratewire',
          PUBLIC_BASE_URL: 'https://ratewire.example/?next=/x',
        }),
      ).sort(),
    ).toEqual(['MAIL_FROM', 'PUBLIC_BASE_URL', 'SMTP_URL']);
    // a line break would start another header
    expect(
      errorKeys(() => parseSettings(workerSettingsSchema, { MAIL_FROM: 'R <a@ratewire.example>\r\nBcc: b@x.example' })),
    ).toEqual(['MAIL_FROM']);
    expect(errorKeys(() => parseSettings(workerSettingsSchema, { PUBLIC_BASE_URL: 'ftp://ratewire.example' }))).toEqual(
      ['PUBLIC_BASE_URL'],
    );
  });
});

describe('operational settings', () => {
  it('defaults: health on loopback, 50 sockets per address, /metrics open', () => {
    expect(parseSettings(workerSettingsSchema, {}).HEALTH_HOST).toBe('127.0.0.1');
    expect(parseSettings(notifierSettingsSchema, {}).HEALTH_HOST).toBe('127.0.0.1');
    const api = parseSettings(apiSettingsSchema, {});
    expect(api.WS_MAX_CONNECTIONS_PER_IP).toBe(50);
    expect(api.METRICS_TOKEN).toBeUndefined();
    expect(parseSettings(notifierSettingsSchema, { HEALTH_HOST: '0.0.0.0' }).HEALTH_HOST).toBe('0.0.0.0');
  });

  it('SHUTDOWN_DRAIN_MS: 5 s by default, 0 to stop at once; a bad value names the key', () => {
    expect(parseSettings(apiSettingsSchema, {}).SHUTDOWN_DRAIN_MS).toBe(5000);
    expect(parseSettings(apiSettingsSchema, { SHUTDOWN_DRAIN_MS: '0' }).SHUTDOWN_DRAIN_MS).toBe(0);
    for (const bad of ['-1', '1.5', 'soon', '120001'])
      expect(errorKeys(() => parseSettings(apiSettingsSchema, { SHUTDOWN_DRAIN_MS: bad }))).toEqual([
        'SHUTDOWN_DRAIN_MS',
      ]);
  });

  it('names a bad HEALTH_HOST, WS_MAX_CONNECTIONS_PER_IP or METRICS_TOKEN', () => {
    expect(errorKeys(() => parseSettings(workerSettingsSchema, { HEALTH_HOST: 'not a host' }))).toEqual([
      'HEALTH_HOST',
    ]);
    expect(errorKeys(() => parseSettings(notifierSettingsSchema, { HEALTH_HOST: 'a_b' }))).toEqual(['HEALTH_HOST']);
    expect(
      errorKeys(() =>
        parseSettings(apiSettingsSchema, { WS_MAX_CONNECTIONS_PER_IP: '0', METRICS_TOKEN: 'short' }),
      ).sort(),
    ).toEqual(['METRICS_TOKEN', 'WS_MAX_CONNECTIONS_PER_IP']);
  });
});

describe('connection settings', () => {
  it('takes a Redis Cluster URL: seed nodes, credentials for every node, TLS with rediss+cluster://', () => {
    const REDIS_URL = 'rediss+cluster://app:s%40cret@10.0.0.1:7000,redis-b:7001,[::1]:7002,redis-c';
    expect(parseSettings(notifierSettingsSchema, { REDIS_URL }).REDIS_URL).toBe(REDIS_URL);
    expect(parseRedisClusterUrl(REDIS_URL)).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
        { host: 'redis-c', port: 6379 },
      ],
      username: 'app',
      password: 's@cret',
      tls: true,
    });
    expect(
      parseSettings(notifierSettingsSchema, { REDIS_URL, REDIS_TLS_CA_FILE: '/etc/ca.pem' }).REDIS_TLS_CA_FILE,
    ).toBe('/etc/ca.pem');
  });

  it('names REDIS_URL for a Redis Cluster URL that is not one, never printing its password', () => {
    for (const REDIS_URL of [
      'redis+cluster://',
      'redis+cluster://a:7000,,b:7001',
      'redis+cluster://a:7000,b:70000',
      'redis+cluster://a:7000/1',
      'redis+cluster://a:7000?x=1',
      'redis+cluster://user:hunter2,a:7000',
      'redis+sentinel://a:26379',
    ]) {
      let message = '';
      try {
        parseSettings(notifierSettingsSchema, { REDIS_URL });
      } catch (err) {
        message = err instanceof SettingsError ? err.issues.map((i) => `${i.key}: ${i.message}`).join('; ') : '';
      }
      expect(message, REDIS_URL).toMatch(/^REDIS_URL: .*(Redis Cluster|redis\+cluster)/);
      expect(message).not.toContain('hunter2');
    }
    expect(
      errorKeys(() =>
        parseSettings(notifierSettingsSchema, { REDIS_URL: 'redis+cluster://a:7000', REDIS_TLS_CA_FILE: '/ca.pem' }),
      ),
    ).toEqual(['REDIS_TLS_CA_FILE']);
  });

  it('takes credentials in REDIS_URL and NATS_URL', () => {
    const s = parseSettings(notifierSettingsSchema, {
      REDIS_URL: 'rediss://app:s3cret@redis:6380',
      NATS_URL: 'nats://app:s3cret@nats-1:4222, nats://app:s3cret@nats-2:4222',
    });
    expect(s.REDIS_URL).toBe('rediss://app:s3cret@redis:6380');
    expect(s.NATS_URL).toEqual(['nats://app:s3cret@nats-1:4222', 'nats://app:s3cret@nats-2:4222']);
  });

  it('NATS_STREAM_REPLICAS: 1 by default, 1 to 5 for every app; another value names the key', () => {
    expect(parseSettings(apiSettingsSchema, {}).NATS_STREAM_REPLICAS).toBe(1);
    expect(parseSettings(workerSettingsSchema, { NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS).toBe(3);
    expect(parseSettings(notifierSettingsSchema, { NATS_STREAM_REPLICAS: '5' }).NATS_STREAM_REPLICAS).toBe(5);
    for (const bad of ['0', '6', '2.5', 'three']) {
      expect(
        errorKeys(() => parseSettings(workerSettingsSchema, { NATS_STREAM_REPLICAS: bad })),
        bad,
      ).toEqual(['NATS_STREAM_REPLICAS']);
    }
  });

  it('names NATS_URL when its URLs carry different credentials', () => {
    const NATS_URL = 'nats://app:one@nats-1:4222,nats://nats-2:4222';
    for (const schema of [apiSettingsSchema, workerSettingsSchema, notifierSettingsSchema]) {
      expect(errorKeys(() => parseSettings(schema, { NATS_URL }))).toEqual(['NATS_URL']);
    }
  });

  it('refuses two ways to log in to NATS, a client certificate without its key, a CA file for plain Redis', () => {
    for (const schema of [apiSettingsSchema, workerSettingsSchema, notifierSettingsSchema]) {
      expect(
        errorKeys(() =>
          parseSettings(schema, { NATS_URL: 'nats://u:p@nats:4222', NATS_NKEY_SEED_FILE: '/run/user.nk' }),
        ),
      ).toEqual(['NATS_NKEY_SEED_FILE']);
      expect(
        errorKeys(() =>
          parseSettings(schema, { NATS_NKEY_SEED_FILE: '/run/user.nk', NATS_CREDS_FILE: '/run/u.creds' }),
        ),
      ).toEqual(['NATS_CREDS_FILE']);
      expect(errorKeys(() => parseSettings(schema, { NATS_TLS_CERT_FILE: '/run/client.pem' }))).toEqual([
        'NATS_TLS_KEY_FILE',
      ]);
      expect(errorKeys(() => parseSettings(schema, { REDIS_TLS_CA_FILE: '/run/ca.pem' }))).toEqual([
        'REDIS_TLS_CA_FILE',
      ]);
    }
  });

  it('lists the *_FILE settings naming a file that cannot be read', () => {
    const s = parseSettings(notifierSettingsSchema, { NATS_CREDS_FILE: '/nonexistent/app.creds' });
    expect(unreadableFiles(s)).toEqual([
      { key: 'NATS_CREDS_FILE', message: 'cannot read /nonexistent/app.creds (ENOENT)' },
    ]);
    expect(unreadableFiles(parseSettings(notifierSettingsSchema, {}))).toEqual([]);
  });
});
