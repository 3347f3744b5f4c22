// The pages the mailed links open. A GET only shows a form; the state changes with the form's POST
// (mail scanners prefetch GET links and would otherwise burn a single-use token). No script: plain
// HTML forms, posting to the same path, answered with a page that says what happened.
import type { Request, Response, Router } from 'express';

import { ACCOUNT_PAGE_PATHS, confirmEmailBody, passwordResetConfirmBody } from '@ratewire/contracts';

import type { AuthService } from '../auth/auth.service.ts';
import { AppError } from '../http/app-error.ts';

const CONFIRM_PATH = ACCOUNT_PAGE_PATHS.confirmEmail;
const RESET_PATH = ACCOUNT_PAGE_PATHS.resetPassword;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.5rem}label{display:block;margin:1rem 0 .25rem}input[type=password]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus-visible,input:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}.error{color:#b3261e}.ok{color:#146c2e}`;

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .set({ 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' })
    .send(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${escapeHtml(title)} · Ratewire</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">` +
        `<link rel="stylesheet" href="/account/account.css"></head>` +
        `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
    );
}

const tokenOf = (value: unknown) => (typeof value === 'string' ? value : '');
/** A field of the posted form (urlencoded; anything else reads as empty). */
const field = (req: Request, name: string): string => {
  const body: unknown = req.body;
  if (!body || typeof body !== 'object') return '';
  return tokenOf((body as Record<string, unknown>)[name]);
};
const hiddenToken = (token: string) => `<input type="hidden" name="token" value="${escapeHtml(token)}">`;

function failure(res: Response, title: string, err: unknown): void {
  if (err instanceof AppError && err.status < 500) {
    page(res, err.status, title, `<p class="error" role="alert">${escapeHtml(err.message)}.</p>`);
    return;
  }
  throw err;
}

export function accountPages(router: Router, service: AuthService): void {
  router.get('/account/account.css', (_req, res) => {
    res.set({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=86400' }).send(CSS);
  });

  router.get(CONFIRM_PATH, (req: Request, res: Response) => {
    const token = tokenOf(req.query.token);
    if (!confirmEmailBody.safeParse({ token }).success) {
      page(res, 400, 'Confirm your email', `<p class="error" role="alert">This link has no valid token.</p>`);
      return;
    }
    page(
      res,
      200,
      'Confirm your email',
      `<p>Confirm the address of your Ratewire account.</p>` +
        `<form method="post" action="${CONFIRM_PATH}">${hiddenToken(token)}<button type="submit">Confirm my address</button></form>`,
    );
  });

  router.post(CONFIRM_PATH, async (req: Request, res: Response) => {
    const parsed = confirmEmailBody.safeParse({ token: field(req, 'token') });
    if (!parsed.success) {
      page(res, 400, 'Confirm your email', `<p class="error" role="alert">This link has no valid token.</p>`);
      return;
    }
    try {
      const user = await service.confirmEmail(parsed.data.token);
      page(res, 200, 'Address confirmed', `<p class="ok" role="status">${escapeHtml(user.email)} is confirmed.</p>`);
    } catch (err) {
      failure(res, 'Confirm your email', err);
    }
  });

  const resetForm = (token: string, error?: string) =>
    (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '') +
    `<form method="post" action="${RESET_PATH}">${hiddenToken(token)}` +
    `<label for="password">New password (at least 8 characters)</label>` +
    `<input id="password" name="password" type="password" autocomplete="new-password" minlength="8" maxlength="256" required>` +
    `<button type="submit">Set the new password</button></form>`;

  router.get(RESET_PATH, (req: Request, res: Response) => {
    const token = tokenOf(req.query.token);
    if (!confirmEmailBody.safeParse({ token }).success) {
      page(res, 400, 'Reset your password', `<p class="error" role="alert">This link has no valid token.</p>`);
      return;
    }
    page(res, 200, 'Reset your password', resetForm(token));
  });

  router.post(RESET_PATH, async (req: Request, res: Response) => {
    const token = field(req, 'token');
    const parsed = passwordResetConfirmBody.safeParse({ token, password: field(req, 'password') });
    if (!parsed.success) {
      const message = parsed.error.issues.find((i) => i.path[0] === 'password')
        ? 'The password needs at least 8 characters (at most 256).'
        : 'This link has no valid token.';
      page(res, 422, 'Reset your password', resetForm(token, message));
      return;
    }
    try {
      await service.resetPassword(parsed.data);
      page(
        res,
        200,
        'Password changed',
        `<p class="ok" role="status">Your new password is set. Every earlier session has ended; log in again.</p>`,
      );
    } catch (err) {
      failure(res, 'Reset your password', err);
    }
  });
}
