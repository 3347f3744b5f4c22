// The header's badge: the live connection (live / reconnecting / offline, and how often it came
// back) and each feed's freshness and mode, from /readyz (read every 15 s and on every reconnect)
// and from the events themselves (the time of the last one seen).
import { signal } from '@preact/signals';
import { readinessSchema, type Readiness } from '@ratewire/contracts/health.schemas';
import { useEffect } from 'preact/hooks';

import { ago } from '../core/format.ts';
import { connection } from '../core/live.ts';
import { useChannel, useNow } from '../core/use.ts';

const READINESS_EVERY_MS = 15_000;

export const readiness = signal<Readiness | null>(null);
/** When the last event of each feed arrived here (ms since the epoch). */
export const lastEventAt = signal<Record<'cbr' | 'binance', number | null>>({ cbr: null, binance: null });

async function readReadiness(): Promise<void> {
  try {
    const res = await fetch('/readyz', { headers: { accept: 'application/json' } });
    const parsed = readinessSchema.safeParse(await res.json());
    readiness.value = parsed.success ? parsed.data : null;
  } catch {
    readiness.value = null;
  }
}

const STATE_TEXT = { connecting: 'Connecting', live: 'Live', reconnecting: 'Reconnecting', offline: 'Offline' };

type FeedMode = 'streaming' | 'polling' | 'stale' | 'unknown';

type FeedHealth = NonNullable<Readiness['feeds']>[string];

function feedMode(feed: FeedHealth): FeedMode {
  if (feed.stale) return 'stale';
  if (feed.mode === 'stream') return 'streaming';
  return 'polling';
}

function Feed({ name, label, now }: { name: 'cbr' | 'binance'; label: string; now: number }) {
  const feed = readiness.value?.feeds?.[name];
  const mode: FeedMode = feed ? feedMode(feed) : 'unknown';
  const seen = lastEventAt.value[name];
  const fetched = feed?.last_success_at;
  const title = [
    fetched ? `last fetched ${ago(fetched, now)} (${fetched})` : 'not fetched yet',
    seen ? `last event here ${ago(seen, now)}` : 'no event here yet',
    feed?.last_error ? `last error: ${feed.last_error}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return (
    <li class={`feed feed-${mode}`} title={title} data-feed={name} data-mode={mode}>
      <span class="feed-name">{label}</span> <span class="feed-mode">{mode}</span>
      {fetched && <span class="feed-age"> · {ago(fetched, now)}</span>}
    </li>
  );
}

export function StatusBadge() {
  const now = useNow(1000);
  const conn = connection.value;
  useEffect(() => {
    void readReadiness();
    const t = setInterval(() => void readReadiness(), READINESS_EVERY_MS);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    if (conn.state === 'live') void readReadiness();
  }, [conn.state, conn.resumes]);
  useChannel('rates.cbr', { event: () => (lastEventAt.value = { ...lastEventAt.value, cbr: Date.now() }) });
  useChannel('rates.binance', { event: () => (lastEventAt.value = { ...lastEventAt.value, binance: Date.now() }) });
  const detail =
    conn.state === 'live'
      ? `live since ${ago(conn.since, now)}${conn.resumes ? `, resumed ${conn.resumes}×` : ''}`
      : conn.detail || STATE_TEXT[conn.state];
  return (
    <div class="status" aria-label="Service status">
      <p class={`connection connection-${conn.state}`} role="status" data-state={conn.state} title={detail}>
        <span class="dot" aria-hidden="true" />
        {STATE_TEXT[conn.state]}
        {conn.state !== 'live' && conn.detail && <span class="visually-hidden">: {conn.detail}</span>}
      </p>
      <ul class="feeds" aria-label="Feeds">
        <Feed name="cbr" label="CBR" now={now} />
        <Feed name="binance" label="Binance" now={now} />
      </ul>
    </div>
  );
}
