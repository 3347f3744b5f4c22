import { describe, expect, it } from 'vitest';

import { MAIL_TEMPLATES, confirmEmailMail, escapeHtml, inWords, linkFor, passwordResetMail } from './mail.templates.ts';

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
