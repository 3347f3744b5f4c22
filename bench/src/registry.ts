import type { Benchmark } from './harness.ts';
import { alertsBench } from './alerts/alerts.bench.ts';
import { cliBench } from './cli/cli.bench.ts';
import { exportBench } from './export/export.bench.ts';
import { httpBench } from './http/http.bench.ts';
import { ingestBench } from './ingest/ingest.bench.ts';
import { jobsBench } from './jobs/jobs.bench.ts';
import { wsBench } from './ws/ws.bench.ts';

/** Every benchmark `pnpm bench` knows, in the order they run. */
export const benchmarks: Benchmark[] = [ingestBench, jobsBench, httpBench, wsBench, exportBench, alertsBench, cliBench];
