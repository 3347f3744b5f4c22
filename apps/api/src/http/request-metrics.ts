// The request metrics (http_requests_total, http_request_duration_seconds) as two prom-client
// metrics whose cells are plain numbers behind a handle per (method, route): recording a request
// is a few additions, with no label hashing or validation per request (the fast lane answers a
// cached read in a few microseconds, and prom-client's labelled inc/observe cost about as much).
// The registry reads the cells when /metrics is scraped, in the usual text format.
import type { Metric, Registry } from 'prom-client';

export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The cells of one (method, route): answers by status, and the latency histogram. */
export class RouteTally {
  readonly method: string;
  readonly route: string;
  readonly statuses = new Map<number, number>();
  /** Counts per bucket (not cumulative), plus one past the last bound. */
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];

  constructor(method: string, route: string, bounds: readonly number[]) {
    this.method = method;
    this.route = route;
    this.bounds = bounds;
    this.buckets = new Float64Array(bounds.length + 1);
  }

  record(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric. */
interface CustomMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }>;
  reset(): void;
}

export class RequestMetrics {
  private readonly tallies = new Map<string, RouteTally>();
  private readonly bounds: readonly number[];

  constructor(registry: Registry, bounds: readonly number[] = DURATION_BUCKETS) {
    this.bounds = bounds;
    const reset = () => this.tallies.clear();
    // the Registry reads a metric through name, help, type, aggregator, get() and reset() only
    const register = (metric: CustomMetric) => registry.registerMetric(metric as unknown as Metric);
    register(
      this.metric('http_requests_total', 'HTTP requests answered', 'counter', reset, () => this.requestValues()),
    );
    register(
      this.metric('http_request_duration_seconds', 'HTTP request latency', 'histogram', reset, () =>
        this.durationValues(),
      ),
    );
  }

  /** The handle of one (method, route pattern); keep it where the route is known ahead. */
  route(method: string, route: string): RouteTally {
    const key = `${method} ${route}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = new RouteTally(method, route, this.bounds);
      this.tallies.set(key, tally);
    }
    return tally;
  }

  private metric(
    name: string,
    help: string,
    type: CustomMetric['type'],
    reset: () => void,
    values: () => MetricValue[],
  ): CustomMetric {
    return {
      name,
      help,
      type,
      aggregator: 'sum',
      get: () => Promise.resolve({ name, help, type, aggregator: 'sum', values: values() }),
      reset,
    };
  }

  private requestValues(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const t of this.tallies.values()) {
      for (const [status, value] of t.statuses) {
        out.push({ value, labels: { method: t.method, route: t.route, status } });
      }
    }
    return out;
  }

  private durationValues(): MetricValue[] {
    const name = 'http_request_duration_seconds';
    const out: MetricValue[] = [];
    for (const t of this.tallies.values()) {
      const labels = { method: t.method, route: t.route };
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += t.buckets[i]!;
        out.push({ value: cumulative, labels: { le, ...labels }, metricName: `${name}_bucket` });
      });
      out.push({ value: t.count, labels: { le: '+Inf', ...labels }, metricName: `${name}_bucket` });
      out.push({ value: t.sum, labels, metricName: `${name}_sum` });
      out.push({ value: t.count, labels, metricName: `${name}_count` });
    }
    return out;
  }
}
