// Rows rendered by Postgres: for a large read whose columns go out as stored (the CBR history
// export), each row comes back as one text — its CSV line or its JSON object — so the api neither
// builds a string per cell nor formats it, and the answer streams at close to COPY's pace. The text
// is the same the api's own encoder writes for such a row (RFC 4180 quoting for text columns; JSON
// with decimals and dates as strings, integers as numbers).
import { sql, type RawBuilder } from 'kysely';

import type { TableFormat } from '@ratewire/contracts';

/**
 * A column to render: a reference (`r.value`) and its kind — `text` may need CSV quoting, `string`
 * (dates, decimals) never does but is a JSON string, `number` (integers) is a JSON number.
 */
export interface RenderColumn {
  name: string;
  ref: string;
  kind: 'text' | 'string' | 'number';
}

const SAFE_NAME = /^[a-z_][a-z0-9_]*$/;
const SAFE_REF = /^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/;

function checked(c: RenderColumn): RenderColumn {
  // names and references are the code's own, never a caller's: refuse anything else outright
  if (!SAFE_NAME.test(c.name) || !SAFE_REF.test(c.ref)) throw new Error(`not a plain column: ${c.name} ${c.ref}`);
  return c;
}

function csvCell(c: RenderColumn): string {
  const v = `coalesce(${c.ref}::text, '')`;
  if (c.kind !== 'text') return v;
  return `case when ${v} ~ '[",\\r\\n]' then '"' || replace(${v}, '"', '""') || '"' else ${v} end`;
}

function jsonMember(c: RenderColumn, first: boolean): string {
  const key = `${first ? '{' : ','}"${c.name}":`;
  const value =
    c.kind === 'number' ? `coalesce(${c.ref}::text, 'null')` : `coalesce(to_json(${c.ref}::text)::text, 'null')`;
  return `'${key}' || ${value}`;
}

/** One text per row: the row's CSV line (no line end) or its JSON object, for `columns` in order. */
export function renderedRow(columns: readonly RenderColumn[], format: TableFormat): RawBuilder<string> {
  const cols = columns.map(checked);
  if (format === 'csv') return sql<string>`${sql.raw(cols.map(csvCell).join(` || ',' || `))}`;
  return sql<string>`${sql.raw(`${cols.map((c, i) => jsonMember(c, i === 0)).join(' || ')} || '}'`)}`;
}
