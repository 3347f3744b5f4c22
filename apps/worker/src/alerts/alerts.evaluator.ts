// One tick of alert evaluation: the rates a change event names → the alerts they may concern (the
// in-memory index, from the event's values) → one statement that judges those candidates exactly, on
// the rates as stored, and commits the firings with the state they advance (commitAlertTick) → the
// firings announced after the commit.
//
// The index is brought up to date at the start of every tick from `alerts.changed_at` (with an
// overlap, so a definition committed a little after its timestamp is still seen), and built from
// nothing at start-up. Which replica evaluates a tick does not matter: the index holds definitions
// only, the evaluation state lives in Postgres.
import {
  activeAlertsPage,
  alertsChangedSince,
  announceAlertFirings,
  binancePricesBefore,
  cbrUnitRatesBefore,
  commitAlertTick,
  databaseNow,
  type AlertIndexRow,
  type AlertObservationInput,
  type Database,
} from '@ratewire/db';
import type { Logger } from '@ratewire/runtime';

import { AlertIndex } from './alert-index.ts';

/** A definition committed up to this long after its changed_at is still picked up by the next sync. */
const SYNC_OVERLAP_MS = 10_000;
const LOAD_PAGE = 20_000;

/** One symbol's new rate, as a change event tells it. */
export interface RateChange {
  symbol: string;
  value: string;
  previous: string | null;
}

export interface TickInput {
  source: 'binance' | 'cbr';
  /** When the rates were observed (a CBR rate: its effective date, 00:00 UTC). */
  at: Date;
  changes: readonly RateChange[];
}

export interface TickReport {
  observations: number;
  candidates: number;
  judged: number;
  fired: number;
  /** Finding the candidates (and their references), in ms. */
  decideMs: number;
  /** The statement that judges them and commits the firings, in ms. */
  commitMs: number;
}

export interface AlertEvaluatorDeps {
  db: Database;
  log: Logger;
  /** Announces a committed firing (NATS alerts.triggered). */
  publish: (subject: string, data: string) => void;
}

export class AlertEvaluator {
  private readonly deps: AlertEvaluatorDeps;
  readonly index = new AlertIndex();
  /** Database time up to which the index is complete; null until it was built. */
  private syncedAt: Date | null = null;

  constructor(deps: AlertEvaluatorDeps) {
    this.deps = deps;
  }

  /** Builds the index from every active alert (again, if it was built before). */
  async load(): Promise<number> {
    const startedAt = await databaseNow(this.deps.db);
    this.index.clear();
    for (let after: string | null = null; ;) {
      const page = await activeAlertsPage(this.deps.db, after, LOAD_PAGE);
      for (const row of page) this.index.load(row);
      if (page.length < LOAD_PAGE) break;
      after = page[page.length - 1]!.id;
    }
    this.index.seal();
    this.syncedAt = startedAt;
    return this.index.size;
  }

  /** Applies the definitions changed since the last look; answers them. */
  async sync(): Promise<AlertIndexRow[]> {
    if (!this.syncedAt) {
      await this.load();
      return [];
    }
    const { now, rows } = await alertsChangedSince(this.deps.db, new Date(this.syncedAt.getTime() - SYNC_OVERLAP_MS));
    for (const row of rows) this.index.apply(row);
    this.syncedAt = now;
    return rows;
  }

  async tick(input: TickInput): Promise<TickReport> {
    const started = performance.now();
    if (!this.syncedAt) await this.load();
    const { source, at } = input;
    // the definitions changed since the last look are read while this tick's candidates are found in
    // the index as it stands; the changed alerts on the tick's symbols then join the candidates (the
    // statement judges every candidate exactly: one too many is never wrong, one too few would be)
    const syncing = this.sync();
    const watched = input.changes.filter((c) => this.index.hasSymbol(source, c.symbol));
    const references = await this.references(source, at, watched);
    const candidates: string[] = [];
    const observed = new Set<string>();
    for (const change of watched) {
      const refs = references.get(change.symbol);
      this.index.candidates(source, { ...change, ...(refs ? { references: refs } : {}) }, candidates);
      observed.add(change.symbol);
    }
    const changed = (await syncing).filter((row) => row.status === 'active' && row.source === source);
    if (changed.length) {
      const bySymbol = new Map(input.changes.map((c) => [c.symbol, c]));
      const unreferenced = new Set<RateChange>();
      for (const row of changed) {
        const change = bySymbol.get(row.symbol);
        if (!change) continue;
        candidates.push(row.id);
        observed.add(row.symbol);
        if (row.window_seconds !== null && !references.get(row.symbol)?.has(row.window_seconds)) {
          unreferenced.add(change);
        }
      }
      // a pct_change alert new to the index since the look before: its symbol's references now
      for (const [symbol, refs] of await this.references(source, at, [...unreferenced])) references.set(symbol, refs);
    }
    const observations: AlertObservationInput[] = [...observed].map((symbol) => {
      const refs = references.get(symbol);
      return { symbol, reference1h: refs?.get(3600) ?? null, reference24h: refs?.get(86_400) ?? null, at };
    });
    const decided = performance.now();
    const result = await commitAlertTick(this.deps.db, { source, observations, candidates });
    const committed = performance.now();
    for (const id of result.ended) this.index.remove(id);
    await announceAlertFirings(this.deps, result.fired);
    return {
      observations: observations.length,
      candidates: candidates.length,
      judged: result.judged,
      fired: result.fired.length,
      decideMs: decided - started,
      commitMs: committed - decided,
    };
  }

  /** pct_change references: each watched symbol's value each window its alerts use before `at`. */
  private async references(
    source: 'binance' | 'cbr',
    at: Date,
    changes: readonly RateChange[],
  ): Promise<Map<string, Map<number, string>>> {
    const byWindow = new Map<number, string[]>();
    for (const c of changes) {
      for (const w of this.index.pctWindows(source, c.symbol)) {
        const list = byWindow.get(w) ?? [];
        list.push(c.symbol);
        byWindow.set(w, list);
      }
    }
    const out = new Map<string, Map<number, string>>();
    for (const [window, symbols] of byWindow) {
      const found =
        source === 'cbr'
          ? await cbrUnitRatesBefore(this.deps.db, symbols, at.toISOString().slice(0, 10))
          : await binancePricesBefore(this.deps.db, symbols, at, window);
      for (const [symbol, value] of found) {
        const refs = out.get(symbol) ?? new Map<number, string>();
        refs.set(window, value);
        out.set(symbol, refs);
      }
    }
    return out;
  }
}
