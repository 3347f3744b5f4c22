// The web console's pages (apps/web). The api answers each of these paths with the console's
// index.html, so a page can be reloaded or linked to; the console's router draws the same list.
export const CONSOLE_PAGES = [
  { path: '/', title: 'Markets' },
  { path: '/charts', title: 'Charts' },
  { path: '/convert', title: 'Convert' },
  { path: '/jobs', title: 'Jobs' },
  { path: '/alerts', title: 'Alerts' },
  { path: '/account', title: 'Account' },
] as const;

export type ConsolePath = (typeof CONSOLE_PAGES)[number]['path'];

/**
 * The cookie that holds a browser's session (the api sets it on `POST /api/v1/auth/session`):
 * HttpOnly, SameSite=Strict, Secure over HTTPS. Its value is the session's access token.
 */
export const SESSION_COOKIE = 'rw_session';
