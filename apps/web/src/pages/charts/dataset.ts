// The points a chart shows, kept as the API sent them: each dataset holds the answer's rows (exact
// decimal strings), the API's column order, and the x of each row for drawing. Several datasets
// share one time axis (aligned by x), and the rows inside a visible x range become CSV exactly as
// the API writes it (RFC 4180, a header row, CRLF after every row).
export type Cell = string | number | boolean | null | undefined;
export type DataRow = Record<string, Cell>;

export interface Dataset {
  /** What the series is, e.g. `USD in RUB`. */
  label: string;
  /** The API's columns, in its CSV order. */
  columns: readonly string[];
  rows: readonly DataRow[];
  /** x of each row (seconds since the epoch). */
  xs: readonly number[];
  /** The file name of an export (without `.csv`). */
  filename: string;
  /** The API's own CSV of the whole answer. */
  csvUrl: string;
}

/** The union of the datasets' xs, ascending, and for each dataset the row at each of them. */
export function align(sets: readonly Dataset[]): { xs: number[]; at: (number | undefined)[][] } {
  const xs = [...new Set(sets.flatMap((s) => s.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const at = sets.map((s) => {
    const out = new Array<number | undefined>(xs.length).fill(undefined);
    s.xs.forEach((x, row) => (out[index.get(x)!] = row));
    return out;
  });
  return { xs, at };
}

/** The rows whose x lies in [min, max]. */
export function rowsIn(set: Dataset, min: number, max: number): DataRow[] {
  return set.rows.filter((_, i) => set.xs[i]! >= min && set.xs[i]! <= max);
}

const NEEDS_QUOTES = /[",\r\n]/;

function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV of `rows` in `columns`' order, each value the string the API sent. */
export function toCsv(columns: readonly string[], rows: readonly DataRow[]): string {
  let out = columns.map(csvCell).join(',') + '\r\n';
  for (const row of rows) out += columns.map((c) => csvCell(row[c])).join(',') + '\r\n';
  return out;
}

/** A decimal string as a number, for placing a pixel only. */
export const pixel = (v: Cell): number | null => {
  if (typeof v !== 'string' || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** `1 point`, `12 points`. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
