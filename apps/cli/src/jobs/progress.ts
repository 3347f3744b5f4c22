// The job progress bar as text: pure, so it is tested without a terminal. The caller decides
// whether to draw it in place (a terminal that allows cursor codes) or to print plain lines.

export interface BarState {
  /** 0..1, or undefined when the job has not said (queued). */
  progress: number | undefined;
  status: string;
  /** A short label, e.g. the job id. */
  label: string;
}

const MIN_BAR = 10;
const MAX_BAR = 40;

/** The fraction as a whole percentage, clamped to 0..100 (not money: a plain number). */
export function percent(progress: number | undefined): number {
  if (progress === undefined || !Number.isFinite(progress)) return 0;
  return Math.round(Math.min(1, Math.max(0, progress)) * 100);
}

/**
 * One line, at most `columns` wide (the terminal's width; 80 when unknown):
 * `[██████░░░░░░░░░░]  37%  running  job 1f2e…`. The bar shrinks to fit, down to MIN_BAR cells;
 * the label is cut (with …) before the bar goes below that.
 */
export function renderBar(state: BarState, columns: number | undefined): string {
  const width = columns && columns > 0 ? columns : 80;
  const pct = `${String(percent(state.progress)).padStart(3)}%`;
  const tail = `  ${pct}  ${state.status}`;
  const label = state.label ? `  ${state.label}` : '';
  // 2 for the brackets, 1 spare so the cursor never wraps to the next line
  let bar = width - tail.length - label.length - 3;
  let shownLabel = label;
  if (bar < MIN_BAR) {
    const room = width - MIN_BAR - tail.length - 3;
    shownLabel = room >= 4 ? `${label.slice(0, room - 1)}…` : '';
    bar = Math.max(1, Math.min(MIN_BAR, width - tail.length - shownLabel.length - 3));
  }
  bar = Math.min(MAX_BAR, bar);
  const filled = Math.round((percent(state.progress) / 100) * bar);
  return `[${'█'.repeat(filled)}${'░'.repeat(bar - filled)}]${tail}${shownLabel}`;
}

/** Redraws the line in place: carriage return, the line, erase to its end. */
export function redraw(line: string): string {
  return `\r${line}\x1b[K`;
}

/** A plain status line for a stream that is not a terminal (no escape codes, one line per change). */
export function statusLine(state: BarState): string {
  const pct = state.progress === undefined ? '' : ` ${percent(state.progress)}%`;
  return `${state.label}: ${state.status}${pct}`;
}
