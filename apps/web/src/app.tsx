// The console's shell: a skip link, the header (pages, the status badge, the account), the page for
// the current path, and the notices. Markets is part of the first load; every other page loads when
// first opened.
import { CONSOLE_PAGES } from '@ratewire/contracts/console';

import { lazyPage } from './components/lazy-page.tsx';
import { StatusBadge } from './components/status-badge.tsx';
import { Toasts } from './components/toasts.tsx';
import { Link, pageOf, route } from './core/router.tsx';
import { me } from './core/session.ts';
import { AlertToasts } from './pages/alerts/alert-toasts.tsx';
import MarketsPage from './pages/markets/markets.page.tsx';

const PAGES = {
  '/': MarketsPage,
  '/charts': lazyPage(() => import('./pages/charts/charts.page.tsx')),
  '/convert': lazyPage(() => import('./pages/convert/convert.page.tsx')),
  '/jobs': lazyPage(() => import('./pages/jobs/jobs.page.tsx')),
  '/alerts': lazyPage(() => import('./pages/alerts/alerts.page.tsx')),
  '/account': lazyPage(() => import('./pages/account/account.page.tsx')),
};

function AccountLink() {
  const user = me.value;
  if (user === undefined) return <span class="account-link muted">…</span>;
  return (
    <Link href="/account" class="account-link">
      {user ? user.email : 'Log in'}
    </Link>
  );
}

export function App() {
  const path = pageOf(route.value.path);
  const Current = PAGES[path];
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <Link href="/" class="brand">
          Ratewire
        </Link>
        <nav aria-label="Pages">
          <ul>
            {CONSOLE_PAGES.filter((p) => p.path !== '/account').map((p) => (
              <li key={p.path}>
                <Link href={p.path} aria-current={p.path === path ? 'page' : undefined}>
                  {p.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <StatusBadge />
        <AccountLink />
      </header>
      <main id="main" tabIndex={-1}>
        <Current />
      </main>
      <footer class="site-footer">
        <a href="/docs">API docs</a> · <a href="/docs/events">Events</a> · Rates: Central Bank of Russia (daily),
        Binance spot
      </footer>
      <AlertToasts />
      <Toasts />
    </>
  );
}
