// Benchmarks print ratios measured side by side in one run: our figure against a bare baseline
// on the same machine at the same moment. Nothing here passes or fails on time.

export interface Figure {
  /** What is measured, e.g. "snapshot rows/s". */
  metric: string;
  ours: number;
  baseline: number;
  /** true when bigger is better (throughput); false for latency and memory. */
  higherIsBetter: boolean;
  unit: string;
  /** The goal as a ratio ours/baseline (for higherIsBetter) or baseline/ours otherwise, if any. */
  goal?: number;
  note?: string;
}

export interface BenchResult {
  name: string;
  baselineName: string;
  figures: Figure[];
}

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}

export function ratio(f: Figure): number {
  if (f.baseline === 0 || f.ours === 0) return Number.NaN;
  return f.higherIsBetter ? f.ours / f.baseline : f.baseline / f.ours;
}

const fmt = (n: number) =>
  Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(Math.abs(n) >= 1 ? 4 : 3);

export function formatResult(r: BenchResult): string {
  const lines = [`${r.name} (baseline: ${r.baselineName})`];
  for (const f of r.figures) {
    const x = ratio(f);
    const goal =
      f.goal === undefined ? '' : `  goal ≥ ${f.goal}× ${Number.isNaN(x) ? '' : x >= f.goal ? 'met' : 'NOT met'}`;
    lines.push(
      `  ${f.metric.padEnd(34)} ours ${fmt(f.ours).padStart(10)} ${f.unit.padEnd(8)} baseline ${fmt(f.baseline).padStart(10)}  ratio ${Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)}×`}${goal}${f.note ? `  (${f.note})` : ''}`,
    );
  }
  return lines.join('\n');
}

/** p-th percentile (0..100) of a sorted or unsorted sample. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
