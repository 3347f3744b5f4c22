// CBR history for the console's charts: a publication on every weekday of a range before the newest
// fixture (2024-11-09, what the worker stores at start), each the newest fixture under its own date
// with its own USD rate, answered by the replay server. The api asks the worker for a day it does not
// have, so reading each day over REST stores it.
import { formatCbrDate, parseCbrDate, spliceBytes, type ReplayServer } from '@ratewire/testkit/replay/index';

/** The newest recorded CBR publication's date. */
export const NEWEST_CBR = '2024-11-09';

/** The weekdays from `from` to `to`, as YYYY-MM-DD. */
export function weekdays(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d.toISOString().slice(0, 10) <= to; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

/** The USD rate (CBR's decimal comma) published on the `k`-th seeded day. */
export const usdOn = (k: number) => `${90 + (k % 7)},${String((k * 7919) % 10000).padStart(4, '0')}`;

/** Has the replay server answer a publication for each of `days`; other dates are answered as recorded. */
export function scriptCbrHistory(replay: ReplayServer, days: readonly string[]): void {
  replay.respond('/scripts/XML_daily.asp', (req) => {
    const date = parseCbrDate(req.query.get('date_req') ?? '');
    const k = date ? days.indexOf(date) : -1;
    if (!date || k < 0) return { useDefault: true };
    return {
      fixture: `cbr/XML_daily_${NEWEST_CBR}.xml`,
      transform: (body) =>
        spliceBytes(
          spliceBytes(body, `Date="${formatCbrDate(NEWEST_CBR)}"`, `Date="${formatCbrDate(date)}"`),
          '<Value>97,8335</Value><VunitRate>97,8335</VunitRate>',
          `<Value>${usdOn(k)}</Value><VunitRate>${usdOn(k)}</VunitRate>`,
        ),
    };
  });
}

/** Reads each of `days` from the api at `url`, six at a time, so the worker stores them. */
export async function loadCbrDays(url: string, days: readonly string[]): Promise<void> {
  for (let i = 0; i < days.length; i += 6) {
    await Promise.all(
      days.slice(i, i + 6).map(async (d) => {
        const res = await fetch(`${url}/api/v1/rates/cbr/${d}`);
        if (!res.ok) throw new Error(`/api/v1/rates/cbr/${d}: HTTP ${res.status} ${await res.text()}`);
      }),
    );
  }
}
