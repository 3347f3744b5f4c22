// A page whose code loads when it is first opened (charts and forms stay out of the first load).
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export function lazyPage(load: () => Promise<{ default: ComponentType }>): ComponentType {
  let loaded: ComponentType | undefined;
  let pending: Promise<ComponentType> | undefined;
  return function LazyPage() {
    const [Page, setPage] = useState<ComponentType | undefined>(() => loaded);
    const [error, setError] = useState<string>();
    useEffect(() => {
      if (loaded) return;
      pending ??= load().then((m) => (loaded = m.default));
      pending.then(
        (p) => setPage(() => p),
        (err: unknown) => {
          pending = undefined;
          setError(err instanceof Error ? err.message : String(err));
        },
      );
    }, []);
    if (error) return <p role="alert">This page could not be loaded ({error}). Reload to try again.</p>;
    if (!Page) return <p class="muted">Loading…</p>;
    return <Page />;
  };
}
