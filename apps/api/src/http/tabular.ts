// Tabular answers: a read whose answer is rows (a series, a history, a list) is sent as JSON, CSV
// (RFC 4180, header row) or NDJSON, chosen by `?format=` or else by Accept. Rows come in batches
// (from a Postgres cursor for the large reads) and are written as they come, waiting for the socket
// to drain between batches, so an answer of a million rows takes the memory of one batch. HEAD and a
// matching If-None-Match get the headers alone, and the rows are never read.
import { once } from 'node:events';
import { createHash } from 'node:crypto';

import type { Request, Response } from 'express';

import { TABLE_ROW_SEPARATOR, type TableFormat } from '@ratewire/contracts';

import { matchesEtag } from '../cache/encoded-body.ts';

/** One cell: strings and numbers as they are; null is empty in CSV and null in JSON; undefined is left out of JSON. */
export type Cell = string | number | boolean | null | undefined;
export type Row = readonly Cell[];

interface TableBase {
  /** Column names: the CSV header and the JSON keys, in order; a row holds its cells in this order. */
  columns: readonly string[];
  /** The download's name without its extension (`cbr-USD-2024-01-01-2024-12-31`). */
  filename: string;
}

/** Rows as cells, encoded here. */
export interface RowTable extends TableBase {
  /** The rows, in batches (an async source is pulled one batch at a time) or all at once. */
  rows: AsyncIterable<readonly Row[]> | readonly Row[];
}

/**
 * Rows Postgres rendered already (see @ratewire/db renderedRow): each text one or more rows' CSV
 * lines or JSON objects, joined by TABLE_ROW_SEPARATOR.
 */
export interface RenderedTable extends TableBase {
  rendered: (format: TableFormat) => AsyncIterable<readonly (readonly [string])[]>;
}

export type Table = RowTable | RenderedTable;

/** A cell for any JSON value: a nested object or array is its JSON text. */
const cellOf = (v: unknown): Cell =>
  v === undefined || v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? v
    : JSON.stringify(v);

/** How a list body `{items: [...]}` becomes rows: the columns named, in order, for a route's `table.fromBody`. */
export function itemsTable(filename: string, columns: readonly string[]) {
  return {
    fromBody: (body: { items: readonly Record<string, unknown>[] }): Table => ({
      columns,
      filename,
      rows: body.items.map((item) => columns.map((c) => cellOf(item[c]))),
    }),
  };
}

const MEDIA: Record<TableFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
};
const EXTENSION: Record<TableFormat, string> = { json: 'json', csv: 'csv', ndjson: 'ndjson' };

/** `?format=` when given, else the Accept header (its q-values and order), else JSON. */
export function negotiateFormat(req: Request, asked: TableFormat | undefined): TableFormat {
  if (asked) return asked;
  const accept = req.headers.accept;
  if (!accept || (!accept.includes('csv') && !accept.includes('ndjson'))) return 'json';
  const chosen = req.accepts(['application/json', 'text/csv', 'application/x-ndjson']);
  return chosen === 'text/csv' ? 'csv' : chosen === 'application/x-ndjson' ? 'ndjson' : 'json';
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field, RFC 4180: quoted (quotes doubled) when it holds a comma, a quote or a line break. */
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') return String(v);
  return NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Text gathered before it is written: tens of kilobytes stay in V8's young generation, freed at once. */
const CHUNK_CHARS = 32 * 1024;

/** One row's text in `format`, without what separates rows (TABLE_ROW_SEPARATOR). */
function rowTextFor(table: Table, format: TableFormat): (row: Row) => string {
  // rendered by Postgres: the text is the row (or a day's rows, already joined)
  if ('rendered' in table) return (row) => row[0] as string;
  const { columns } = table;
  if (format === 'csv') {
    return (row) => {
      let line = csvCell(row[0]);
      for (let i = 1; i < columns.length; i++) line += ',' + csvCell(row[i]);
      return line;
    };
  }
  const keys = columns.map((c) => JSON.stringify(c) + ':');
  return (row) => {
    let out = '';
    for (let i = 0; i < keys.length; i++) {
      const v = row[i];
      if (v === undefined) continue;
      out += (out ? ',' : '{') + keys[i] + JSON.stringify(v);
    }
    return out ? out + '}' : '{}';
  };
}

/** A strong ETag for an answer that cannot change: the request's identity and the data's fingerprint, per format. */
export function tableEtag(identity: string, format: TableFormat): string {
  return `"${createHash('sha256').update(`${format}\n${identity}`).digest('base64url').slice(0, 27)}"`;
}

/** Whether the request's If-None-Match names `etag` (or is `*`): the cached bodies' comparison. */
export function ifNoneMatch(req: Request, etag: string): boolean {
  const header = req.headers['if-none-match'];
  return header !== undefined && matchesEtag(header, etag.replace(/^"|"$/g, ''));
}

async function* batchesOf(rows: RowTable['rows']): AsyncGenerator<readonly Row[]> {
  if (Array.isArray(rows)) {
    if (rows.length) yield rows as readonly Row[];
    return;
  }
  yield* rows as AsyncIterable<readonly Row[]>;
}

/** Whether the client is gone (or the answer over): nothing more is to be read for it. */
const gone = (res: Response) => res.destroyed || res.closed || res.writableEnded || res.socket?.destroyed !== false;

/**
 * Until the socket has taken what it holds, or is gone. The socket's own state is asked (a response's
 * drain flag can stay set when the socket never filled), and the listeners go with the wait.
 */
async function drained(res: Response): Promise<void> {
  const socket = res.socket;
  if (!socket?.writableNeedDrain) return;
  const done = new AbortController();
  const { signal } = done;
  try {
    await Promise.race([once(socket, 'drain', { signal }), once(socket, 'close', { signal })]);
  } finally {
    done.abort();
  }
}

export interface TableAnswer {
  cacheControl?: string | undefined;
  /** A promise is awaited beside the first batch (its lookup need not hold up the rows). */
  etag?: string | Promise<string> | undefined;
  headers?: Record<string, string> | undefined;
}

/**
 * Sends `table` in `format`. The first batch is read before any header is written, so a failure
 * there is still an ordinary error answer; a failure later cuts the answer short (the connection is
 * destroyed, so a client never takes a truncated body for a whole one).
 */
export async function sendTable(
  req: Request,
  res: Response,
  table: Table,
  format: TableFormat,
  answer: TableAnswer = {},
): Promise<void> {
  const source = 'rendered' in table ? batchesOf(table.rendered(format)) : batchesOf(table.rows);
  let etag: string | undefined;
  const writeHeaders = (status: number) => {
    res.status(status);
    if (answer.headers) res.set(answer.headers);
    res.set('content-type', MEDIA[format]);
    res.set('vary', 'Accept, Accept-Encoding');
    if (answer.cacheControl) res.set('cache-control', answer.cacheControl);
    if (etag) res.set('etag', etag);
    if (format !== 'json') {
      res.set('content-disposition', `attachment; filename="${table.filename}.${EXTENSION[format]}"`);
    }
  };
  try {
    let next: IteratorResult<readonly Row[]>;
    if (req.method === 'HEAD' || req.headers['if-none-match']) {
      // the validator decides before any row is read
      etag = await answer.etag;
      const fresh = etag !== undefined && ifNoneMatch(req, etag);
      if (fresh || req.method === 'HEAD') {
        writeHeaders(fresh ? 304 : 200);
        res.end();
        return;
      }
      next = await source.next();
    } else {
      [etag, next] = await Promise.all([answer.etag, source.next()]);
    }
    writeHeaders(200);
    const text = rowTextFor(table, format);
    // CSV and NDJSON end every row with the separator; a JSON array puts it between rows
    const separator = TABLE_ROW_SEPARATOR[format];
    const between = format === 'json';
    let out = format === 'csv' ? table.columns.map(csvCell).join(',') + separator : between ? '[' : '';
    let first = true;
    while (!next.done) {
      if (gone(res)) return;
      res.cork();
      for (const row of next.value) {
        if (between) {
          out += (first ? '' : separator) + text(row);
          first = false;
        } else out += text(row) + separator;
        if (out.length >= CHUNK_CHARS) {
          res.write(out);
          out = '';
        }
      }
      res.uncork();
      // asked after the flush: a drain that already happened within uncork() is not waited for
      if (!gone(res)) await drained(res);
      if (gone(res)) return;
      next = await source.next();
    }
    res.end(out + (between ? ']' : ''));
  } catch (err) {
    if (!res.headersSent) throw err;
    req.log.warn({ err }, 'a streamed answer failed after its first byte; the connection is cut');
    res.destroy(err as Error);
  } finally {
    // stops the cursor and gives its connection back, whether the rows ran out, the client left or a read failed
    await source.return(undefined).catch(() => undefined);
  }
}
