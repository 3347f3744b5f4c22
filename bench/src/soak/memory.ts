// Memory of the soak's processes: RSS from /proc (Linux), the api's heap from its /metrics, sampled
// on a timer, and the growth after the warm-up (first to last sample, and the least-squares slope).
import { readFileSync } from 'node:fs';

export interface Sample {
  /** Seconds since the traffic started. */
  at: number;
  rssMb: Record<string, number | null>;
  /** Heap used and external memory (MB) where the process exposes them (the api's /metrics). */
  heapMb: Record<string, number | null>;
}

/** Resident set size of a process in MB, or null once it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** A gauge in bytes (default `nodejs_heap_size_used_bytes`) from a Prometheus text page, in MB. */
export function heapFromMetrics(text: string, metric = 'nodejs_heap_size_used_bytes'): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
  return line ? Number(line.split(' ').pop()) / 1024 / 1024 : null;
}

export interface Growth {
  app: string;
  start: number | null;
  warm: number | null;
  end: number | null;
  max: number | null;
  /** end - warm */
  growth: number | null;
  /** MB per minute after the warm-up (least squares). */
  slope: number | null;
}

function slope(points: [number, number][]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? null : (num / den) * 60;
}

/** Per app and measure: start, after the warm-up, end, max, growth and slope after the warm-up. */
export function growth(samples: Sample[], warmupSeconds: number, measure: 'rssMb' | 'heapMb'): Growth[] {
  const apps = Object.keys(samples[0]?.[measure] ?? {});
  return apps.map((app) => {
    const values = samples
      .map((s) => [s.at, s[measure][app]] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null);
    const after = values.filter(([at]) => at >= warmupSeconds);
    const warm = after[0]?.[1] ?? null;
    const end = values.at(-1)?.[1] ?? null;
    return {
      app,
      start: values[0]?.[1] ?? null,
      warm,
      end,
      max: values.length ? Math.max(...values.map(([, v]) => v)) : null,
      growth: warm !== null && end !== null ? end - warm : null,
      slope: slope(after.map(([at, v]) => [at, v])),
    };
  });
}

const mb = (v: number | null, signed = false) =>
  v === null ? '—' : `${signed && v >= 0 ? '+' : ''}${v.toFixed(1)}`.padStart(8);

export function formatSamples(samples: Sample[]): string {
  const apps = Object.keys(samples[0]?.rssMb ?? {});
  const heaps = Object.keys(samples[0]?.heapMb ?? {});
  const head = ['   min', ...apps.map((a) => `${a} RSS`.padStart(13)), ...heaps.map((a) => `${a} heap`.padStart(13))];
  const rows = samples.map((s) =>
    [
      (s.at / 60).toFixed(1).padStart(6),
      ...apps.map((a) => mb(s.rssMb[a] ?? null).padStart(13)),
      ...heaps.map((a) => mb(s.heapMb[a] ?? null).padStart(13)),
    ].join(' '),
  );
  return [head.join(' '), ...rows].join('\n');
}

export function formatGrowth(title: string, rows: Growth[], warmupSeconds: number): string {
  const lines = [
    `${title} (MB; warm-up ${(warmupSeconds / 60).toFixed(1)} min)`,
    `  ${'app'.padEnd(10)}${'start'.padStart(8)}${'warm'.padStart(9)}${'end'.padStart(9)}${'max'.padStart(9)}${'growth'.padStart(9)}  MB/min after warm-up`,
  ];
  for (const r of rows) {
    lines.push(
      `  ${r.app.padEnd(10)}${mb(r.start)}${mb(r.warm).padStart(9)}${mb(r.end).padStart(9)}${mb(r.max).padStart(9)}${mb(r.growth, true).padStart(9)}  ${r.slope === null ? '—' : r.slope.toFixed(2)}`,
    );
  }
  return lines.join('\n');
}
