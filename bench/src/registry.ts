import type { Benchmark } from './harness.ts';

/** Every benchmark `pnpm bench` knows, in the order they run. */
export const benchmarks: Benchmark[] = [];
