// The mail the worker sends, one pure function per kind: a subject, a plain-text part and an HTML
// part carrying the same words and the same link. The HTML escapes everything it shows and loads
// nothing: no remote images, no scripts, no stylesheets (styles are inline).
// Account mail carries a link that acts (a token); an alert's mail tells of its firing, every
// value written as stored (decimal text, never a float), and links to the console.
import { ACCOUNT_PAGE_PATHS, type AlertTriggeredEvent } from '@ratewire/contracts';
import type { LinkPurpose } from '@ratewire/db';
import { normalize } from '@ratewire/money';

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

/** The api's page each kind of account mail links to, under PUBLIC_BASE_URL. */
const PAGES: Record<LinkPurpose, string> = {
  confirm_email: ACCOUNT_PAGE_PATHS.confirmEmail,
  password_reset: ACCOUNT_PAGE_PATHS.resetPassword,
};

/** `${publicBaseUrl}/account/confirm?token=…` (the base is taken from the settings only, never a request). */
export function linkFor(publicBaseUrl: string, kind: LinkPurpose, token: string): string {
  return `${homeLink(publicBaseUrl)}${PAGES[kind]}?token=${encodeURIComponent(token)}`;
}

/** PUBLIC_BASE_URL itself, without a trailing slash: where the console is. */
export const homeLink = (publicBaseUrl: string): string => publicBaseUrl.replace(/\/+$/, '');

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
  link: string;
  /** Paragraphs after the link. */
  outro: string[];
}

function render(body: Body): MailContent {
  const text = ['Hello,', ...body.intro, `${body.button}:\n${body.link}`, ...body.outro, '— Ratewire'].join('\n\n');

  const p = (s: string, style = '') => `<p style="margin:0 0 16px;${style}">${escapeHtml(s)}</p>`;
  const href = escapeHtml(body.link);
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
${body.outro.map((s) => p(s)).join('\n')}
${p('— Ratewire', 'color:#555555')}
</div>
</body>
</html>
`;
  return { subject: body.subject, text: `${text}\n`, html };
}

/** An account mail: its link works once, until it expires (said after the link). */
function renderLink(mail: LinkMail, body: Omit<Body, 'link'>): MailContent {
  const expiry = `The link works once and expires in ${inWords(mail.ttlSeconds)} (at ${utc(mail.expiresAt)}).`;
  return render({ ...body, link: mail.link, outro: [expiry, ...body.outro] });
}

export function confirmEmailMail(mail: LinkMail): MailContent {
  return renderLink(mail, {
    subject: 'Confirm your email address for Ratewire',
    intro: [`Someone, hopefully you, created a Ratewire account with the address ${mail.to}.`],
    button: 'Confirm your email address',
    outro: [
      'If you did not create this account, ignore this mail: the address stays unconfirmed and nothing else happens.',
    ],
  });
}

export function passwordResetMail(mail: LinkMail): MailContent {
  return renderLink(mail, {
    subject: 'Reset your Ratewire password',
    intro: [`Someone, hopefully you, asked to reset the password of the Ratewire account ${mail.to}.`],
    button: 'Choose a new password',
    outro: [
      'Once you choose a new password, every session signed in with the old one is signed out.',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ],
  });
}

/** The account mail of each link purpose. */
export const MAIL_TEMPLATES: Record<LinkPurpose, (mail: LinkMail) => MailContent> = {
  confirm_email: confirmEmailMail,
  password_reset: passwordResetMail,
};

export interface AlertMail {
  /** The address the mail goes to. */
  to: string;
  /** The firing as it is announced (alertFiringEvent): its decimals are the stored ones. */
  event: AlertTriggeredEvent;
  /** Where the console is (PUBLIC_BASE_URL). */
  link: string;
}

const SOURCE_NAMES: Record<AlertTriggeredEvent['source'], string> = { binance: 'Binance', cbr: 'CBR' };

/** "BTCUSDT crossed above 65000", "USD rose 5.2% in 24h": what happened, in the alert's own terms. */
export function alertHeadline(event: AlertTriggeredEvent): string {
  const { symbol, condition: c, observed } = event;
  switch (c.type) {
    case 'above':
      return `${symbol} is above ${c.level}`;
    case 'below':
      return `${symbol} is below ${c.level}`;
    case 'crosses_above':
      return `${symbol} crossed above ${c.level}`;
    case 'crosses_below':
      return `${symbol} crossed below ${c.level}`;
    case 'pct_change': {
      if (observed.change_pct === undefined) return `${symbol} moved ${c.threshold_pct}% or more in ${c.window}`;
      const change = normalize(observed.change_pct);
      const down = change.startsWith('-');
      return `${symbol} ${down ? 'fell' : 'rose'} ${down ? change.slice(1) : change}% in ${c.window}`;
    }
  }
}

/** `2026-12-03 14:30:59 UTC`; a CBR rate is a day's: `2026-12-03`. */
const observedAt = (event: AlertTriggeredEvent) =>
  event.source === 'cbr' ? event.observed.at.slice(0, 10) : `${event.observed.at.slice(0, 19).replace('T', ' ')} UTC`;

export function alertTriggeredMail(mail: AlertMail): MailContent {
  const { event } = mail;
  const headline = alertHeadline(event);
  const { observed, condition: c } = event;
  const where = `${event.symbol} on ${SOURCE_NAMES[event.source]}`;
  const seen =
    event.source === 'cbr'
      ? `Observed: ${observed.value}, the CBR rate for ${observedAt(event)}`
      : `Observed: ${observed.value} at ${observedAt(event)}`;
  const before =
    observed.previous === null
      ? ''
      : c.type === 'pct_change'
        ? ` (${observed.previous} ${c.window} before)`
        : ` (previous: ${observed.previous})`;
  const rule =
    c.type === 'pct_change'
      ? `The alert fires on a move of ${c.threshold_pct}% or more in ${c.window} (direction: ${c.direction}).`
      : null;
  const intro = [
    event.test
      ? `This is a test of your Ratewire alert on ${where}, as you asked; the alert itself is unchanged.`
      : `Your Ratewire alert on ${where} fired: ${headline}.`,
    `${seen}${before}.`,
    ...(rule ? [rule] : []),
  ];
  return render({
    subject: `${event.test ? '[test] ' : ''}${headline}`,
    intro,
    button: 'Open Ratewire',
    link: mail.link,
    outro: [
      `Alert ${event.alert_id}, firing ${event.event_id}. This mail went to ${mail.to} because the alert names the email channel.`,
    ],
  });
}
