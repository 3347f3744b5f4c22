// The evaluator's in-memory index of active alerts: per (source, symbol), the levels of each kind of
// condition kept sorted, so that an observation that moved a rate from `previous` to `value` finds
// the alerts it may concern by binary search — the levels it moved past, the re-arm points it moved
// back over — in O(log held + found), however many alerts a symbol holds.
//
// The index only narrows: it picks candidates from definitions, and the tick's statement
// (commitAlertTick) judges each candidate exactly, in numeric, on its stored state. So an entry a
// little stale (an alert changed a moment ago) costs a wasted candidate at worst, and the index
// holds no evaluation state at all (armed, waiting, last firing): any replica may evaluate any tick.
//
// Keys are exact: a decimal as a bigint scaled by 10^30 (every decimal the contracts accept has at
// most 30 places), so comparisons are exact integer comparisons, never binary floats.
import type { AlertIndexRow } from '@ratewire/db';

const SCALE_PLACES = 30;
/** rearm_pct and threshold_pct have at most 4 places: percentages as integers of 10^-4 %, over 100 %. */
const PCT_UNIT = 1_000_000n;

/** A non-negative decimal string as an integer of 10^-30 units (exact; extra places are cut). */
export function decimalKey(value: string): bigint {
  const negative = value.startsWith('-');
  const text = negative ? value.slice(1) : value;
  const dot = text.indexOf('.');
  const int = dot < 0 ? text : text.slice(0, dot);
  const frac = dot < 0 ? '' : text.slice(dot + 1, dot + 1 + SCALE_PLACES);
  // one parse of the digits, the fraction padded to the scale
  const key = BigInt((int || '0') + frac.padEnd(SCALE_PLACES, '0'));
  return negative ? -key : key;
}

/** A percentage with at most 4 places as an integer of 10^-4 % (so 100 % is PCT_UNIT). */
const pctUnits = (pct: string): bigint => decimalKey(pct) / 10n ** BigInt(SCALE_PLACES - 4);

interface Entry {
  id: string;
  key: bigint;
}

/** Entries sorted by key; equal keys in insertion order. */
class SortedEntries {
  readonly items: Entry[] = [];

  /** Index of the first entry whose key is ≥ key (strict: > key). */
  bound(key: bigint, strict: boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.items[mid]!.key;
      if (k < key || (strict && k === key)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(entry: Entry): void {
    this.items.splice(this.bound(entry.key, true), 0, entry);
  }

  remove(entry: Entry): void {
    for (let i = this.bound(entry.key, false); i < this.items.length && this.items[i]!.key === entry.key; i++) {
      if (this.items[i]!.id === entry.id) {
        this.items.splice(i, 1);
        return;
      }
    }
  }

  /** Pushes the ids whose keys lie between lo and hi (each bound open or closed; null: unbounded). */
  collect(out: string[], lo: bigint | null, loOpen: boolean, hi: bigint | null, hiOpen: boolean): void {
    const start = lo === null ? 0 : this.bound(lo, loOpen);
    const end = hi === null ? this.items.length : this.bound(hi, !hiOpen);
    for (let i = start; i < end; i++) out.push(this.items[i]!.id);
  }

  /** Sorts after a bulk load (entries appended unsorted). */
  sort(): void {
    this.items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

type ListName = 'above' | 'below' | 'crossUp' | 'crossDown' | 'rearmUp' | 'rearmDown' | 'pctUp' | 'pctDown' | 'pctBoth';

interface Book {
  lists: Partial<Record<ListName, SortedEntries>>;
  /** pct_change every_time alerts: judged on every observation (their re-arm depends on the move). */
  pctEvery: Set<string>;
  /** The pct_change windows (seconds) this symbol's alerts use, for the tick to fetch references of. */
  pctWindows: Map<number, number>;
}

/** Where one alert sits in the index: each (list, entry) it was put in. */
interface Placement {
  book: Book;
  at: [ListName, Entry][];
  pctWindow: number | null;
  pctEvery: boolean;
}

/** One symbol's observation, as the index reads it. */
export interface IndexObservation {
  symbol: string;
  value: string;
  previous: string | null;
  /** pct_change: the value `window` seconds before, by window (absent: history does not reach back). */
  references?: ReadonlyMap<number, string>;
}

export class AlertIndex {
  private readonly books = new Map<string, Book>();
  private readonly placed = new Map<string, Placement>();
  /** Each symbol's latest value and its key: the next observation's `previous` is parsed once. */
  private readonly latest = new Map<string, { text: string; key: bigint }>();

  get size(): number {
    return this.placed.size;
  }

  /** Adds, replaces or (for any status but active) removes an alert. */
  apply(row: AlertIndexRow): void {
    this.remove(row.id);
    if (row.status === 'active') this.add(row, false);
  }

  /** Adds many alerts quickly (a first load): call `seal()` once they are all in. */
  load(row: AlertIndexRow): void {
    if (row.status !== 'active') return;
    this.remove(row.id);
    this.add(row, true);
  }

  /** Sorts every list after `load`. */
  seal(): void {
    for (const book of this.books.values()) for (const list of Object.values(book.lists)) list.sort();
  }

  remove(id: string): void {
    const p = this.placed.get(id);
    if (!p) return;
    for (const [name, entry] of p.at) p.book.lists[name]!.remove(entry);
    if (p.pctEvery) p.book.pctEvery.delete(id);
    if (p.pctWindow !== null) {
      const n = (p.book.pctWindows.get(p.pctWindow) ?? 1) - 1;
      if (n > 0) p.book.pctWindows.set(p.pctWindow, n);
      else p.book.pctWindows.delete(p.pctWindow);
    }
    this.placed.delete(id);
  }

  clear(): void {
    this.books.clear();
    this.placed.clear();
    this.latest.clear();
  }

  /** Whether any alert on this symbol was indexed (its observations are worth judging). */
  hasSymbol(source: string, symbol: string): boolean {
    return this.books.has(`${source}:${symbol}`);
  }

  /** The pct_change windows alerts on this symbol use (none: no reference needs fetching). */
  pctWindows(source: string, symbol: string): number[] {
    return [...(this.books.get(`${source}:${symbol}`)?.pctWindows.keys() ?? [])];
  }

  /**
   * The alerts an observation may concern: the levels it moved past (and, on a symbol's first
   * observation, the above/below levels it stands beyond), the re-arm points it moved back over,
   * and the pct_change alerts whose move it reaches.
   */
  candidates(source: string, obs: IndexObservation, out: string[] = []): string[] {
    const name = `${source}:${obs.symbol}`;
    const book = this.books.get(name);
    if (!book) return out;
    const last = this.latest.get(name);
    const c = decimalKey(obs.value);
    const p = obs.previous === null ? null : last && last.text === obs.previous ? last.key : decimalKey(obs.previous);
    this.latest.set(name, { text: obs.value, key: c });
    const l = book.lists;
    if (p === null) {
      l.above?.collect(out, null, false, c, true); // level < c
      l.below?.collect(out, c, true, null, false); // level > c
      l.rearmUp?.collect(out, c, false, null, false); // key ≥ c
      l.rearmDown?.collect(out, null, false, c, false); // key ≤ c
    } else if (c > p) {
      l.above?.collect(out, p, false, c, true); // p ≤ level < c: newly above
      l.crossUp?.collect(out, p, true, c, false); // p < level ≤ c
      l.rearmDown?.collect(out, p, true, c, false); // p < key ≤ c: newly at or over the re-arm point
    } else if (c < p) {
      l.below?.collect(out, c, true, p, false); // c < level ≤ p: newly below
      l.crossDown?.collect(out, c, false, p, true); // c ≤ level < p
      l.rearmUp?.collect(out, c, false, p, true); // c ≤ key < p: newly at or under the re-arm point
    }
    if (book.pctWindows.size && obs.references) this.pctCandidates(book, c, obs.references, out);
    return out;
  }

  private pctCandidates(book: Book, c: bigint, references: ReadonlyMap<number, string>, out: string[]): void {
    // threshold t (in 10^-4 %) is reached when |move| × 100 % ≥ t × reference: the thresholds up to
    // floor(|move| × PCT_UNIT / reference) — exact, the keys being integers
    for (const [window, ref] of references) {
      const r = decimalKey(ref);
      if (r <= 0n) continue;
      const up = c > r ? ((c - r) * PCT_UNIT) / r : -1n;
      const down = c < r ? ((r - c) * PCT_UNIT) / r : -1n;
      const reach = (list: SortedEntries | undefined, limit: bigint) => {
        if (!list || limit < 0n) return;
        const start = list.bound(windowKey(window, 0n), false);
        const end = list.bound(windowKey(window, limit < WINDOW_SHIFT ? limit : WINDOW_SHIFT - 1n), true);
        for (let i = start; i < end; i++) out.push(list.items[i]!.id);
      };
      reach(book.lists.pctUp, up);
      reach(book.lists.pctDown, down);
      reach(book.lists.pctBoth, up > down ? up : down);
    }
    for (const id of book.pctEvery) out.push(id);
  }

  private book(source: string, symbol: string): Book {
    const name = `${source}:${symbol}`;
    let book = this.books.get(name);
    if (!book) {
      book = { lists: {}, pctEvery: new Set(), pctWindows: new Map() };
      this.books.set(name, book);
    }
    return book;
  }

  private add(row: AlertIndexRow, bulk: boolean): void {
    const book = this.book(row.source, row.symbol);
    const placement: Placement = { book, at: [], pctWindow: null, pctEvery: false };
    const put = (name: ListName, key: bigint) => {
      const entry = { id: row.id, key };
      const list = (book.lists[name] ??= new SortedEntries());
      if (bulk) list.items.push(entry);
      else list.insert(entry);
      placement.at.push([name, entry]);
    };
    const every = row.frequency === 'every_time';
    const rearm = pctUnits(row.rearm_pct);
    if (row.condition_type === 'pct_change') {
      const window = row.window_seconds ?? 0;
      const t = pctUnits(row.threshold_pct ?? '0');
      put(row.direction === 'up' ? 'pctUp' : row.direction === 'down' ? 'pctDown' : 'pctBoth', windowKey(window, t));
      placement.pctWindow = window;
      book.pctWindows.set(window, (book.pctWindows.get(window) ?? 0) + 1);
      if (every) {
        book.pctEvery.add(row.id);
        placement.pctEvery = true;
      }
    } else {
      const level = decimalKey(row.level ?? '0');
      const rising = row.condition_type === 'above' || row.condition_type === 'crosses_above';
      const list: ListName =
        row.condition_type === 'above'
          ? 'above'
          : row.condition_type === 'below'
            ? 'below'
            : rising
              ? 'crossUp'
              : 'crossDown';
      put(list, level);
      if (every) {
        // re-armed at or beyond level × (1 ∓ rearm_pct): floor going down, ceiling going up, so the
        // integer comparison of an observation with the key is the exact comparison with the point
        if (rising) put('rearmUp', (level * (PCT_UNIT - rearm)) / PCT_UNIT);
        else put('rearmDown', ceilDiv(level * (PCT_UNIT + rearm), PCT_UNIT));
      }
    }
    this.placed.set(row.id, placement);
  }
}

/** pct lists hold both windows: the window in the high part of the key, the threshold below it. */
const WINDOW_SHIFT = 10n ** 12n;
const windowKey = (window: number, threshold: bigint) => BigInt(window) * WINDOW_SHIFT + threshold;

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
