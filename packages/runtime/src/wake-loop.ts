// A background loop of rounds: each round says how long to sleep before the next; notify() ends a
// sleep early (new work exists) and a notify() during a round makes the next start at once; a round
// that throws backs off (doubling, reset by a round that succeeds), and that backoff is cut short
// only by wake() or close(), unless told otherwise. close() stops the loops and waits for their running rounds.

export interface RoundContext {
  /** The previous round of this loop failed (it is now backing off or just retried). */
  retrying: boolean;
}

export interface WakeLoopOptions {
  /** One round. Resolves with how long to sleep before the next (0 or less: at once); throwing backs off. */
  round: (context: RoundContext) => Promise<number>;
  /** Loops running rounds side by side (each round must claim its own work). Default 1. */
  loops?: number;
  /** After a failed round: wait firstMs, then twice as long each time, up to maxMs. */
  backoff: { firstMs: number; maxMs: number };
  /** Told of each failed round, with the backoff that follows (log it here). */
  onError: (err: unknown, retryMs: number) => void;
  /** Whom notify() wakes: one sleeping loop (one signal, one look) or every sleeping loop. Default 'one'. */
  notifyWakes?: 'one' | 'all';
  /** Whether notify() also ends a backoff. Default false: a backoff ends on its timer or close(). */
  notifyEndsBackoff?: boolean;
}

export class WakeLoop {
  private readonly options: WakeLoopOptions;
  private stopped = false;
  /** notify() came since the last round started: do not sleep after the current one. */
  private signalled = false;
  /** Loops sleeping between rounds. */
  private readonly idle = new Set<() => void>();
  /** Loops backing off after a failure. */
  private readonly backingOff = new Set<() => void>();
  private running: Promise<void>[] = [];

  constructor(options: WakeLoopOptions) {
    this.options = options;
  }

  /** Starts the loops; a second call does nothing. */
  start(): void {
    if (this.running.length || this.stopped) return;
    const n = this.options.loops ?? 1;
    for (let i = 0; i < n; i++) this.running.push(this.run());
  }

  /** New work exists: look now rather than when a sleep ends. */
  notify(): void {
    this.signalled = true;
    if (this.options.notifyWakes === 'all') for (const wake of [...this.idle]) wake();
    else [...this.idle][0]?.();
    if (this.options.notifyEndsBackoff) for (const wake of [...this.backingOff]) wake();
  }

  /**
   * What the rounds were failing on is back (a connection reconnected): every sleep and backoff ends
   * now, and a loop in a round starts its next one at once. The backoff is not reset; the next
   * round's success resets it.
   */
  wake(): void {
    if (this.stopped) return;
    this.signalled = true;
    for (const wake of [...this.idle, ...this.backingOff]) wake();
  }

  /** Stops the loops: sleeps and backoffs end, and the rounds running are waited for. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.idle, ...this.backingOff]) wake();
    await Promise.all(this.running);
  }

  private async run(): Promise<void> {
    const { firstMs, maxMs } = this.options.backoff;
    let backoffMs = 0;
    while (!this.stopped) {
      let sleepMs: number;
      try {
        this.signalled = false;
        sleepMs = await this.options.round({ retrying: backoffMs > 0 });
        backoffMs = 0;
      } catch (err) {
        backoffMs = Math.min(Math.max(backoffMs * 2, firstMs), maxMs);
        this.options.onError(err, backoffMs);
        await this.sleep(backoffMs, this.backingOff);
        continue;
      }
      if (sleepMs > 0 && !this.signalled) await this.sleep(sleepMs, this.idle);
    }
  }

  private sleep(ms: number, set: Set<() => void>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }
}
