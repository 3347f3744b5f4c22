// Pages by path (the History API): links change the URL without a reload, Back and Forward work,
// and each page can be reloaded or linked to (the api answers every console path with the app).
// On a change, the title follows and focus moves to the new page's heading for screen readers.
import { signal } from '@preact/signals';
import { CONSOLE_PAGES, type ConsolePath } from '@ratewire/contracts/console';
import type { ComponentChildren, JSX } from 'preact';

export const route = signal<{ path: string; search: string }>({
  path: typeof location === 'undefined' ? '/' : location.pathname,
  search: typeof location === 'undefined' ? '' : location.search,
});

export const pageOf = (path: string): ConsolePath => CONSOLE_PAGES.find((p) => p.path === path)?.path ?? '/';

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (url.pathname + url.search === location.pathname + location.search) return;
  history[options.replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search + url.hash);
  route.value = { path: url.pathname, search: url.search };
}

/** The current page's query parameter. */
export const queryParam = (name: string): string | null => new URLSearchParams(route.value.search).get(name);

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', () => {
    route.value = { path: location.pathname, search: location.search };
  });
}

type LinkProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'> & { href: string; children?: ComponentChildren };

/** An `<a>` that navigates in place (a modified click still opens a new tab). */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
