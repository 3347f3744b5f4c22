// The mail the worker sends, one pure function per kind: a subject, a plain-text part and an HTML
// part carrying the same words and the same link. The HTML escapes everything it shows and loads
// nothing: no remote images, no scripts, no stylesheets (styles are inline).
import { ACCOUNT_PAGE_PATHS } from '@ratewire/contracts';
import type { MailKind } from '@ratewire/db';

export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

export interface LinkMail {
  /** The address the mail goes to (shown in it). */
  to: string;
  /** The link that acts: a page of the api that confirms or resets by POST. */
  link: string;
  expiresAt: Date;
  /** How long the link works, as told in words ("24 hours"). */
  ttlSeconds: number;
}

/** The api's page each kind of mail links to, under PUBLIC_BASE_URL. */
const PAGES: Record<MailKind, string> = {
  confirm_email: ACCOUNT_PAGE_PATHS.confirmEmail,
  password_reset: ACCOUNT_PAGE_PATHS.resetPassword,
};

/** `${publicBaseUrl}/account/confirm?token=…` (the base is taken from the settings only, never a request). */
export function linkFor(publicBaseUrl: string, kind: MailKind, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${PAGES[kind]}?token=${encodeURIComponent(token)}`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** "24 hours", "30 minutes", "1 hour". */
export function inWords(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds >= 3600 && seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  return plural(Math.max(1, Math.round(seconds / 60)), 'minute');
}

/** `2026-12-03 14:30 UTC` */
const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

interface Body {
  subject: string;
  /** Paragraphs before the link (plain text; escaped for HTML). */
  intro: string[];
  button: string;
  /** Paragraphs after the link. */
  outro: string[];
}

function render(mail: LinkMail, body: Body): MailContent {
  const expiry = `The link works once and expires in ${inWords(mail.ttlSeconds)} (at ${utc(mail.expiresAt)}).`;
  const after = [expiry, ...body.outro];
  const text = ['Hello,', ...body.intro, `${body.button}:\n${mail.link}`, ...after, '— Ratewire'].join('\n\n');

  const p = (s: string, style = '') => `<p style="margin:0 0 16px;${style}">${escapeHtml(s)}</p>`;
  const href = escapeHtml(mail.link);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(body.subject)}</title>
</head>
<body style="margin:0;padding:24px;background:#ffffff;color:#1a1a1a;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">
<div style="max-width:560px">
${[p('Hello,'), ...body.intro.map((s) => p(s))].join('\n')}
<p style="margin:24px 0"><a href="${href}" style="display:inline-block;padding:10px 20px;background:#1f5fbf;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">${escapeHtml(body.button)}</a></p>
<p style="margin:0 0 16px;font-size:14px;color:#555555">If the button does not work, copy this link into your browser:<br><a href="${href}" style="color:#1f5fbf;word-break:break-all">${href}</a></p>
${after.map((s) => p(s)).join('\n')}
${p('— Ratewire', 'color:#555555')}
</div>
</body>
</html>
`;
  return { subject: body.subject, text: `${text}\n`, html };
}

export function confirmEmailMail(mail: LinkMail): MailContent {
  return render(mail, {
    subject: 'Confirm your email address for Ratewire',
    intro: [`Someone, hopefully you, created a Ratewire account with the address ${mail.to}.`],
    button: 'Confirm your email address',
    outro: [
      'If you did not create this account, ignore this mail: the address stays unconfirmed and nothing else happens.',
    ],
  });
}

export function passwordResetMail(mail: LinkMail): MailContent {
  return render(mail, {
    subject: 'Reset your Ratewire password',
    intro: [`Someone, hopefully you, asked to reset the password of the Ratewire account ${mail.to}.`],
    button: 'Choose a new password',
    outro: [
      'Once you choose a new password, every session signed in with the old one is signed out.',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ],
  });
}

/** The mail of each kind. */
export const MAIL_TEMPLATES: Record<MailKind, (mail: LinkMail) => MailContent> = {
  confirm_email: confirmEmailMail,
  password_reset: passwordResetMail,
};
