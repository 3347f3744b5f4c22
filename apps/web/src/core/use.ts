// Small hooks the pages share.
import { useEffect, useRef, useState } from 'preact/hooks';

import { messageOf } from './api.ts';
import { listen, type ChannelListener } from './live.ts';

export type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'failed'; error: string };

/** Loads `load()` whenever `deps` change; `reload()` loads again. An older answer never overwrites a newer one. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    setState((s) => (s.state === 'ready' ? s : { state: 'loading' }));
    load(abort.signal).then(
      (value) => !abort.signal.aborted && setState({ state: 'ready', value }),
      (err: unknown) => !abort.signal.aborted && setState({ state: 'failed', error: messageOf(err) }),
    );
    return () => abort.abort();
  }, [...deps, tick]);
  return [state, () => setTick((t) => t + 1)];
}

/** Follows `channel` while the component is mounted (none when `channel` is null). */
export function useChannel(channel: string | null, listener: ChannelListener): void {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    if (!channel) return undefined;
    return listen(channel, {
      event: (frame) => latest.current.event(frame),
      subscribed: (resumed) => latest.current.subscribed?.(resumed),
      reset: () => latest.current.reset?.(),
    });
  }, [channel]);
}

/** Re-renders every `ms` (for "12 s ago" labels). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
