// pnpm bench [name ...]: runs each benchmark (or the named ones) and prints ours, baseline, ratio.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { formatResult, ratio, type Benchmark, type BenchResult } from './harness.ts';
import { benchmarks } from './registry.ts';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const selected: Benchmark[] = wanted.length ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;
if (wanted.length && selected.length !== wanted.length) {
  const known = benchmarks.map((b) => b.name).join(', ');
  process.stderr.write(`unknown benchmark in ${wanted.join(', ')}; known: ${known || '(none)'}\n`);
  process.exit(2);
}

const results: BenchResult[] = [];
for (const bench of selected) {
  process.stdout.write(`\n▶ ${bench.name}: ${bench.description}\n`);
  const result = await bench.run();
  results.push(result);
  process.stdout.write(`${formatResult(result)}\n`);
}

const out = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'results',
  `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    results.map((r) => ({ ...r, figures: r.figures.map((f) => ({ ...f, ratio: ratio(f) })) })),
    null,
    2,
  ),
);
process.stdout.write(`\n${results.length} benchmark(s) run; figures saved to ${out}\n`);
