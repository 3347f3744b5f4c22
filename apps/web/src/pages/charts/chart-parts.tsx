// What both chart modes show beside the canvas: what is in view (a live region), the exports
// (the visible points as CSV, the API's own CSV of the whole answer) and the points as a table
// for screen readers and for reading exact figures.
import { download } from '../../core/format.ts';
import { plural, rowsIn, toCsv, type Dataset } from './dataset.ts';

export interface View {
  min: number;
  max: number;
}

const NUMERIC = new Set(['value', 'unit_rate', 'open', 'high', 'low', 'close', 'avg', 'count', 'nominal']);

/** "Showing 12 of 40 points, 2024-09-02 to 2024-09-20". */
export function ViewStatus({
  sets,
  view,
  format,
}: {
  sets: Dataset[];
  view: View | undefined;
  format: (x: number) => string;
}) {
  const main = sets[0];
  if (!main) return null;
  const visible = view ? rowsIn(main, view.min, view.max) : main.rows;
  const firstX = view ? main.xs.find((x) => x >= view.min) : main.xs[0];
  const lastX = view ? main.xs.findLast((x) => x <= view.max) : main.xs[main.xs.length - 1];
  return (
    <p
      class="chart-view hint"
      role="status"
      data-visible={visible.length}
      data-from={firstX ?? ''}
      data-to={lastX ?? ''}
    >
      {visible.length === main.rows.length
        ? `Showing all ${plural(main.rows.length, 'point')}`
        : `Zoomed: showing ${visible.length} of ${plural(main.rows.length, 'point')}`}
      {firstX !== undefined && lastX !== undefined && visible.length > 0 && `, ${format(firstX)} to ${format(lastX)}`}
    </p>
  );
}

export function ExportBar({ sets, view }: { sets: Dataset[]; view: View | undefined }) {
  return (
    <div class="chart-export">
      {sets.map((set) => (
        <span key={set.label} class="chart-export-item">
          <button
            type="button"
            class="secondary"
            disabled={!set.rows.length}
            onClick={() => {
              const rows = view ? rowsIn(set, view.min, view.max) : set.rows;
              download(`${set.filename}${view ? '-visible' : ''}.csv`, toCsv(set.columns, rows));
            }}
          >
            Export visible {set.label} as CSV
          </button>{' '}
          <a href={set.csvUrl} download>
            {set.label}: the API's CSV of the whole range
          </a>
        </span>
      ))}
    </div>
  );
}

export function DataTable({ set, caption }: { set: Dataset; caption: string }) {
  return (
    <details class="chart-data">
      <summary>
        Data table: {set.label} ({plural(set.rows.length, 'point')})
      </summary>
      {/* focusable, so the keyboard scrolls it */}
      <div class="table-wrap" tabIndex={0} role="region" aria-label={`${set.label} data`}>
        <table data-series={set.label}>
          <caption>{caption}</caption>
          <thead>
            <tr>
              {set.columns.map((c) => (
                <th key={c} scope="col" class={NUMERIC.has(c) ? 'num' : undefined}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {set.rows.map((row, i) => (
              <tr key={i}>
                {set.columns.map((c, j) =>
                  j === 0 ? (
                    <th key={c} scope="row">
                      {String(row[c] ?? '')}
                    </th>
                  ) : (
                    <td key={c} class={NUMERIC.has(c) ? 'num' : undefined}>
                      {String(row[c] ?? '')}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
