// What a `useLoad` read shows before its answer: "Loading …" while it is on its way, and, when it
// failed, why, with a button that tries again. Nothing once the answer is there.
import type { Loaded } from '../core/use.ts';

export function LoadStatus<T>({ loaded, what, reload }: { loaded: Loaded<T>; what: string; reload: () => void }) {
  if (loaded.state === 'loading') return <p class="muted">Loading {what}…</p>;
  if (loaded.state === 'ready') return null;
  return (
    <p role="alert" class="error">
      Could not load {what}: {loaded.error}{' '}
      <button type="button" class="secondary" onClick={reload}>
        Try again
      </button>
    </p>
  );
}
