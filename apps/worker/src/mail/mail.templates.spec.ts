import { describe, expect, it } from 'vitest';

import type { AlertTriggeredEvent } from '@ratewire/contracts';

import {
  MAIL_TEMPLATES,
  alertHeadline,
  alertTriggeredMail,
  confirmEmailMail,
  escapeHtml,
  homeLink,
  inWords,
  linkFor,
  passwordResetMail,
} from './mail.templates.ts';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCd';
const at = new Date('2026-12-03T14:30:59.000Z');

describe('linkFor', () => {
  it('builds the page link from PUBLIC_BASE_URL alone, with one slash', () => {
    expect(linkFor('https://ratewire.example', 'confirm_email', TOKEN)).toBe(
      `https://ratewire.example/account/confirm?token=${TOKEN}`,
    );
    expect(linkFor('https://ratewire.example/app/', 'password_reset', TOKEN)).toBe(
      `https://ratewire.example/app/account/reset-password?token=${TOKEN}`,
    );
    expect(linkFor('http://localhost:8000', 'confirm_email', 'a+b/c=')).toBe(
      'http://localhost:8000/account/confirm?token=a%2Bb%2Fc%3D',
    );
  });
});

describe('inWords', () => {
  it.each([
    [24 * 3600, '24 hours'],
    [3600, '1 hour'],
    [30 * 60, '30 minutes'],
    [60, '1 minute'],
    [90 * 60, '90 minutes'],
  ])('%i s is %s', (seconds, words) => {
    expect(inWords(seconds)).toBe(words);
  });
});

describe('mail templates', () => {
  const confirm = confirmEmailMail({
    to: 'ana@example.test',
    link: linkFor('https://ratewire.example', 'confirm_email', TOKEN),
    expiresAt: at,
    ttlSeconds: 24 * 3600,
  });
  const reset = passwordResetMail({
    to: 'ana@example.test',
    link: linkFor('https://ratewire.example', 'password_reset', TOKEN),
    expiresAt: at,
    ttlSeconds: 30 * 60,
  });

  it('one template per kind', () => {
    expect(MAIL_TEMPLATES.confirm_email).toBe(confirmEmailMail);
    expect(MAIL_TEMPLATES.password_reset).toBe(passwordResetMail);
  });

  it('a clear subject for each', () => {
    expect(confirm.subject).toBe('Confirm your email address for Ratewire');
    expect(reset.subject).toBe('Reset your Ratewire password');
  });

  it('both parts carry the link, the expiry, the address and what to do if it was not asked for', () => {
    for (const [mail, page, expiry, ignore] of [
      [confirm, 'confirm', 'expires in 24 hours (at 2026-12-03 14:30 UTC)', 'If you did not create this account'],
      [reset, 'reset-password', 'expires in 30 minutes (at 2026-12-03 14:30 UTC)', 'If you did not ask for this'],
    ] as const) {
      const link = `https://ratewire.example/account/${page}?token=${TOKEN}`;
      expect(mail.text).toContain(`\n${link}\n`);
      expect(mail.html).toContain(`href="${link}"`);
      expect(mail.html.split(link).length - 1).toBe(3); // the button, the copyable link's href and its text
      for (const part of [mail.text, mail.html]) {
        expect(part).toContain(expiry);
        expect(part).toContain('ana@example.test');
        expect(part).toContain(ignore);
      }
    }
  });

  it('the HTML loads nothing and runs nothing: no images, scripts, stylesheets or remote sources', () => {
    for (const mail of [confirm, reset]) {
      expect(mail.html).not.toMatch(/<img|<script|<link|<iframe|<object|src=|url\(|@import/i);
      expect(mail.html).not.toMatch(/ on\w+=/i);
      expect(mail.html.match(/https?:\/\/[^"<\s]+/g)?.every((u) => u.startsWith('https://ratewire.example/'))).toBe(
        true,
      );
    }
  });

  it('escapes the address (and anything else shown) in the HTML; the text part shows it as it is', () => {
    const to = `"<script>alert('x')</script>&co"@example.test`;
    const mail = confirmEmailMail({
      to,
      link: 'https://ratewire.example/account/confirm?token=a&b',
      expiresAt: at,
      ttlSeconds: 60,
    });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;co&quot;@example.test');
    expect(mail.html).toContain('href="https://ratewire.example/account/confirm?token=a&amp;b"');
    expect(mail.text).toContain(to);
  });

  it('escapeHtml escapes the five characters that matter in text and attributes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('alert mail', () => {
  const event = (over: Partial<AlertTriggeredEvent> = {}): AlertTriggeredEvent => ({
    type: 'alert.triggered',
    alert_id: '11111111-1111-4111-8111-111111111111',
    event_id: '22222222-2222-4222-8222-222222222222',
    user_id: '33333333-3333-4333-8333-333333333333',
    test: false,
    source: 'binance',
    symbol: 'BTCUSDT',
    condition: { type: 'crosses_above', level: '65000' },
    observed: { value: '65010.12345678', previous: '64999.9', at: '2026-12-03T14:30:59.123Z' },
    channels: ['email'],
    ...over,
  });
  const mailOf = (e: AlertTriggeredEvent) =>
    alertTriggeredMail({ to: 'ana@example.test', event: e, link: homeLink('https://ratewire.example/') });

  it.each([
    [{ type: 'above', level: '1.5' }, 'BTCUSDT is above 1.5'],
    [{ type: 'below', level: '0.00000001' }, 'BTCUSDT is below 0.00000001'],
    [{ type: 'crosses_above', level: '65000' }, 'BTCUSDT crossed above 65000'],
    [{ type: 'crosses_below', level: '64000.5' }, 'BTCUSDT crossed below 64000.5'],
  ] as const)('says what a %o firing means: %s', (condition, headline) => {
    expect(alertHeadline(event({ condition }))).toBe(headline);
  });

  it('a pct_change firing says which way it moved, by how much (as stored) and over which window', () => {
    const pct = { type: 'pct_change', window: '1h', threshold_pct: '5', direction: 'both' } as const;
    const up = event({
      condition: pct,
      observed: { value: '105.3', previous: '100', at: '2026-12-03T14:30:00.000Z', change_pct: '5.3000' },
    });
    const down = event({
      condition: { ...pct, window: '24h' },
      observed: { value: '90', previous: '100', at: '2026-12-03T14:30:00.000Z', change_pct: '-10.0000' },
    });
    expect(alertHeadline(up)).toBe('BTCUSDT rose 5.3% in 1h');
    expect(alertHeadline(down)).toBe('BTCUSDT fell 10% in 24h');
    const mail = mailOf(up);
    expect(mail.text).toContain('Observed: 105.3 at 2026-12-03 14:30:00 UTC (100 1h before).');
    expect(mail.text).toContain('The alert fires on a move of 5% or more in 1h (direction: both).');
  });

  it('subject, both parts: the headline, the value and the previous one exactly, the alert, a link to PUBLIC_BASE_URL and no token', () => {
    const mail = mailOf(event());
    expect(mail.subject).toBe('BTCUSDT crossed above 65000');
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('Your Ratewire alert on BTCUSDT on Binance fired: BTCUSDT crossed above 65000.');
      expect(part).toContain('Observed: 65010.12345678 at 2026-12-03 14:30:59 UTC (previous: 64999.9).');
      expect(part).toContain('11111111-1111-4111-8111-111111111111');
      expect(part).not.toContain('token');
    }
    expect(mail.text).toContain('Open Ratewire:\nhttps://ratewire.example\n');
    expect(mail.html).toContain('href="https://ratewire.example"');
    expect(mail.html).not.toMatch(/<img|<script|<link|<iframe|<object|src=|url\(|@import/i);
  });

  it('a test firing says so in the subject and the text', () => {
    const mail = mailOf(event({ test: true }));
    expect(mail.subject).toBe('[test] BTCUSDT crossed above 65000');
    expect(mail.text).toContain('This is a test of your Ratewire alert on BTCUSDT on Binance');
    expect(mail.text).not.toContain(' fired: ');
  });

  it('a CBR firing names the rate by its day; a first observation has no previous value', () => {
    const mail = mailOf(
      event({
        source: 'cbr',
        symbol: 'USD',
        condition: { type: 'above', level: '100' },
        observed: { value: '100.5', previous: null, at: '2026-12-03T00:00:00.000Z' },
      }),
    );
    expect(mail.subject).toBe('USD is above 100');
    expect(mail.text).toContain('Your Ratewire alert on USD on CBR fired: USD is above 100.');
    expect(mail.text).toContain('Observed: 100.5, the CBR rate for 2026-12-03.');
  });

  it('escapes what it shows in the HTML', () => {
    const mail = mailOf(event({ symbol: '<b>X</b>' }));
    expect(mail.html).not.toContain('<b>X</b>');
    expect(mail.html).toContain('&lt;b&gt;X&lt;/b&gt; crossed above 65000');
  });
});
