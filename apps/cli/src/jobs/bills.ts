// Bills from the command line: `--bill` flags, a JSON file (an array of bills or a whole body), or
// CSV (a header row naming denomination_id?, denomination, count). The service's contract checks
// the result; these only read text into its shape, and say which line or flag was wrong.
import { usageError } from '../core/exit-codes.ts';

export interface RawBill {
  denomination_id: number;
  denomination: string | number;
  count: number;
}

/** What a file gave: its bills, and the other body fields a JSON body named. */
export interface BillsInput {
  bills: unknown;
  rest: Record<string, unknown>;
}

const BILL = /^(?:(\d+):)?\s*(\d+(?:\.\d+)?)\s*[x×*]\s*(\d+)$/i;
const WHOLE = /^\d+$/;

export const BILL_SYNTAX = 'DENOMINATION x COUNT (e.g. 10x5), or ID:DENOMINATION x COUNT (e.g. 3:10x5)';

/** `--bill` values in order; a bill without `ID:` gets its position (1, 2, …) as denomination_id. */
export function parseBillFlags(values: readonly string[]): RawBill[] {
  return values.map((value, i) => {
    const m = BILL.exec(value.trim());
    if (!m) throw usageError(`--bill ${JSON.stringify(value)}: expected ${BILL_SYNTAX}`);
    const [, id, denomination = '', count = ''] = m;
    return {
      denomination_id: id === undefined ? i + 1 : Number(id),
      denomination,
      count: Number(count),
    };
  });
}

/** A JSON or CSV document, told apart by its first character. */
export function parseBillsDocument(text: string, name: string): BillsInput {
  const trimmed = text.trim();
  if (trimmed === '') throw usageError(`${name}: empty`);
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseBillsJson(trimmed, name);
  return { bills: parseBillsCsv(trimmed, name), rest: {} };
}

function parseBillsJson(text: string, name: string): BillsInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw usageError(`${name}: not valid JSON (${(err as Error).message})`);
  }
  if (Array.isArray(value)) return { bills: value, rest: {} };
  if (value && typeof value === 'object') {
    const { bills, ...rest } = value as Record<string, unknown>;
    if (bills === undefined) throw usageError(`${name}: a JSON object needs "bills"`);
    return { bills, rest };
  }
  throw usageError(`${name}: expected an array of bills or an object with "bills"`);
}

function cells(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

function parseBillsCsv(text: string, name: string): RawBill[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = cells(lines[0] ?? '').map((h) => h.toLowerCase());
  const col = (h: string) => header.indexOf(h);
  const [iId, iDen, iCount] = [col('denomination_id'), col('denomination'), col('count')];
  if (iDen < 0 || iCount < 0)
    throw usageError(
      `${name}: line 1: expected a CSV header "denomination_id,denomination,count" or "denomination,count"`,
    );
  return lines.slice(1).map((line, i) => {
    const row = cells(line);
    const where = `${name}: line ${i + 2}`;
    if (row.length !== header.length) throw usageError(`${where}: expected ${header.length} fields`);
    const id = iId >= 0 ? (row[iId] ?? '') : String(i + 1);
    const count = row[iCount] ?? '';
    if (!WHOLE.test(id)) throw usageError(`${where}: denomination_id: expected a whole number`);
    if (!WHOLE.test(count)) throw usageError(`${where}: count: expected a whole number`);
    return { denomination_id: Number(id), denomination: row[iDen] ?? '', count: Number(count) };
  });
}
