import type { Logger } from 'pino';

export type ShutdownPhase = 'draining' | 'accepting' | 'in-flight' | 'nats' | 'redis' | 'postgres';
const ORDER: ShutdownPhase[] = ['draining', 'accepting', 'in-flight', 'nats', 'redis', 'postgres'];

export interface ShutdownStepOptions {
  /** How long this step may take before it is given up (the shutdown's own timeout by default). */
  timeoutMs?: number;
}

/**
 * Graceful shutdown in one fixed order: drain (say not ready while still serving, so balancers
 * move away) → stop accepting → finish or hand back in-flight work → drain NATS → quit Redis →
 * close the pool. Steps register under their phase; a second signal exits at once.
 */
export class Shutdown {
  private readonly steps = new Map<
    ShutdownPhase,
    { name: string; fn: () => Promise<void> | void; timeoutMs: number | undefined }[]
  >();
  private running: Promise<void> | null = null;
  private started = false;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(log: Logger, timeoutMs = 4000) {
    this.log = log;
    this.timeoutMs = timeoutMs;
  }

  add(phase: ShutdownPhase, name: string, fn: () => Promise<void> | void, options: ShutdownStepOptions = {}): void {
    const list = this.steps.get(phase) ?? [];
    list.push({ name, fn, timeoutMs: options.timeoutMs });
    this.steps.set(phase, list);
  }

  /** True from the first signal (or run()) on: readiness answers 'draining' from then. */
  get stopping(): boolean {
    return this.started;
  }

  /** Runs every step once; later calls return the same promise. */
  run(reason: string): Promise<void> {
    // set before the first step runs: a step (or what it awaits) already sees `stopping`
    this.started = true;
    this.running ??= this.execute(reason);
    return this.running;
  }

  private async execute(reason: string): Promise<void> {
    this.log.info({ reason }, 'shutting down');
    for (const phase of ORDER) {
      // steps added later stop first within a phase (LIFO), like nested resources
      for (const step of [...(this.steps.get(phase) ?? [])].reverse()) {
        const started = Date.now();
        try {
          const ms = step.timeoutMs ?? this.timeoutMs;
          await withTimeout(Promise.resolve(step.fn()), ms, `${phase}/${step.name}`);
          this.log.debug({ phase, step: step.name, ms: Date.now() - started }, 'shutdown step done');
        } catch (err) {
          this.log.warn({ phase, step: step.name, err }, 'shutdown step failed');
        }
      }
    }
    this.log.info('stopped');
  }

  /** SIGTERM/SIGINT run the shutdown then exit 0; a second signal exits 1 at once. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.running) {
        this.log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      void this.run(signal).then(() => process.exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
