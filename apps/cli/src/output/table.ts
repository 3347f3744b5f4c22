// Tables for people: aligned columns, a bold header on a colour terminal, numbers right-aligned.
export interface Column<T> {
  header: string;
  value: (row: T) => string | null | undefined;
  align?: 'left' | 'right';
}

const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/** Terminal control characters in data are shown, never obeyed. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], colour: boolean): string {
  const cells = rows.map((row) => columns.map((c) => printable(c.value(row) ?? '-')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const pad = (text: string, i: number) =>
    columns[i]?.align === 'right' ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const line = (parts: string[]) => parts.map(pad).join('  ').trimEnd();
  const header = line(columns.map((c) => c.header));
  return [colour ? `${BOLD}${header}${RESET}` : header, ...cells.map(line)].join('\n') + '\n';
}

/** `key  value` lines for one record. */
export function renderRecord(
  pairs: readonly (readonly [string, string | null | undefined])[],
  colour: boolean,
): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return (
    pairs
      .map(([k, v]) => `${colour ? BOLD : ''}${k.padEnd(width)}${colour ? RESET : ''}  ${printable(v ?? '-')}`)
      .join('\n') + '\n'
  );
}
