// The bills editor's rows and what can be read into them: a pasted CSV (denomination,count or
// id,denomination,count) or JSON (an array of bills, or an object with `bills`). Numbers stay the
// exact text that was written: JSON numerals are read as strings, never as binary floats.

export interface BillRow {
  /** This editor's key for the row (stable while rows are added and removed). */
  key: number;
  id: string;
  denomination: string;
  count: string;
}

let nextKey = 1;

export function newRow(rows: readonly BillRow[], values: Partial<Omit<BillRow, 'key'>> = {}): BillRow {
  const ids = rows.map((r) => (/^\d+$/.test(r.id.trim()) ? Number(r.id.trim()) : 0));
  const id = String(ids.length ? Math.max(...ids) + 1 : 1);
  return { key: nextKey++, id, denomination: '', count: '1', ...values };
}

export type Parsed = { ok: true; rows: BillRow[] } | { ok: false; error: string };

const NUMERAL = /^\s*-?\d+(?:\.\d+)?\s*$/;

/** Quotes every bare JSON numeral (outside strings), so JSON.parse keeps its digits. */
function quoteNumerals(json: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += json[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(json.slice(i));
    if (m && !/[\w.]/.test(json[i - 1] ?? '')) {
      out += `"${m[0]}"`;
      i += m[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : '?');

function fromJson(source: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(quoteNumerals(source));
  } catch (err) {
    return { ok: false, error: `This is not JSON (${err instanceof Error ? err.message : String(err)}).` };
  }
  const list: unknown = Array.isArray(value) ? value : (value as { bills?: unknown } | null)?.bills;
  if (!Array.isArray(list) || list.length === 0)
    return { ok: false, error: 'Expected an array of bills, or {"bills": [...]}.' };
  const rows: BillRow[] = [];
  for (const [i, item] of list.entries()) {
    if (!item || typeof item !== 'object') return { ok: false, error: `Bill ${i + 1} is not an object.` };
    const b = item as Record<string, unknown>;
    const row = newRow(rows, { denomination: text(b['denomination']), count: text(b['count'] ?? '1') });
    if (b['denomination_id'] !== undefined) row.id = text(b['denomination_id']);
    rows.push(row);
  }
  return { ok: true, rows };
}

function fromCsv(source: string): Parsed {
  const lines = source
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const rows: BillRow[] = [];
  for (const [i, line] of lines.entries()) {
    const cells = line.split(/[,;\t]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    // a first line of words is a header
    if (i === 0 && !cells.some((c) => NUMERAL.test(c))) continue;
    if (cells.length === 2) rows.push(newRow(rows, { denomination: cells[0]!, count: cells[1]! }));
    else if (cells.length === 3)
      rows.push({ ...newRow(rows), id: cells[0]!, denomination: cells[1]!, count: cells[2]! });
    else {
      return {
        ok: false,
        error: `Line ${i + 1} has ${cells.length} values; expected denomination,count or id,denomination,count.`,
      };
    }
  }
  if (!rows.length) return { ok: false, error: 'No bills found.' };
  return { ok: true, rows };
}

/** Bills from pasted text, JSON when it starts with [ or {, CSV otherwise. */
export function parseBills(source: string): Parsed {
  const s = source.trim();
  if (!s) return { ok: false, error: 'Paste some bills first.' };
  return s.startsWith('[') || s.startsWith('{') ? fromJson(s) : fromCsv(s);
}

/** The bills each job submitted from this tab carried (the job view shows only ids and subtotals). */
export const submitted = new Map<
  string,
  { bills: { id: number; denomination: string; count: number }[]; callback: boolean }
>();
