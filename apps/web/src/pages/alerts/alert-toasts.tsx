// Turns the signed-in account's alert firings into notices, on every page: it follows the WS
// channel `alerts:<user_id>` (event `alerts.triggered`), checks each frame's data against the
// contract and shows the symbol, the condition, the observed value (the exact string sent) and when
// it was observed. A firing can be announced twice (a sweep publishes again what it could not mark):
// each event id is shown once. `alertFirings` counts firings and resubscriptions, so the Alerts page
// reloads its statuses when it changes. In the first load: it imports only the event's schema.
import { signal } from '@preact/signals';
import { alertTriggeredEvent } from '@ratewire/contracts/alert-events.schemas';

import { toast } from '../../components/toasts.tsx';
import { formatDateTime, groupDigits } from '../../core/format.ts';
import { me } from '../../core/session.ts';
import { useChannel } from '../../core/use.ts';
import { describeCondition, SOURCE_WORDS } from './describe.ts';

/** Bumped on every firing seen, and whenever the channel was (re)confirmed or lost frames. */
export const alertFirings = signal(0);

const SEEN_MAX = 500;
const seen = new Set<string>();

/** True the first time an event id is met. */
function firstSight(id: string): boolean {
  if (seen.has(id)) return false;
  seen.add(id);
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value!);
  return true;
}

export function AlertToasts() {
  const user = me.value;
  useChannel(user ? `alerts:${user.id}` : null, {
    event(frame) {
      if (frame.event !== 'alerts.triggered') return;
      const parsed = alertTriggeredEvent.safeParse(frame.data);
      if (!parsed.success) {
        console.warn(`alerts: a firing frame (${frame.id}) that does not match its contract was ignored`);
        return;
      }
      const e = parsed.data;
      alertFirings.value++;
      if (!firstSight(e.event_id)) return;
      const { value, previous, at, change_pct } = e.observed;
      const was = previous === null ? '' : `, previous ${groupDigits(previous)}`;
      const moved = change_pct === undefined ? '' : ` (${change_pct}%)`;
      toast({
        title: `${e.test ? 'Test firing' : 'Alert'}: ${e.symbol} ${describeCondition(e.condition)}`,
        body: `Observed ${groupDigits(value)}${moved}${was} · ${SOURCE_WORDS[e.source]}, ${formatDateTime(at)}`,
        tone: e.test ? 'info' : 'warning',
      });
    },
    subscribed() {
      alertFirings.value++;
    },
    reset() {
      alertFirings.value++;
    },
  });
  return null;
}
