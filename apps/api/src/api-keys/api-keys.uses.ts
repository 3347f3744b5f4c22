// When each key was last accepted, written in batches: a request only notes the time in memory, and
// every `intervalMs` one UPDATE (unnest of ids and times) records every key used since. Close
// writes what is left. A failed write is logged and retried with the next batch.
import { recordApiKeyUses, type Database } from '@ratewire/db';
import { errorMessage, type Logger } from '@ratewire/runtime';

export const API_KEY_USES_INTERVAL_MS = 5000;
const MAX_PENDING = 100_000;

export interface ApiKeyUsesDeps {
  db: Database;
  log: Logger;
  intervalMs?: number;
}

export class ApiKeyUses {
  private readonly deps: ApiKeyUsesDeps;
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(deps: ApiKeyUsesDeps) {
    this.deps = deps;
    this.timer = setInterval(() => void this.flush(), deps.intervalMs ?? API_KEY_USES_INTERVAL_MS);
    this.timer.unref();
  }

  /** Notes that key `id` was accepted now. */
  record(id: string): void {
    if (this.pending.size >= MAX_PENDING && !this.pending.has(id)) return;
    this.pending.set(id, Date.now());
  }

  /** Writes the uses noted so far (one statement); resolves when it is done. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await recordApiKeyUses(
        this.deps.db,
        [...batch].map(([id, at]) => ({ id, at: new Date(at) })),
      );
      if (this.failing) this.deps.log.info('API key last-use times are recorded again');
      this.failing = false;
    } catch (err) {
      // kept for the next batch, unless a newer use of the key was noted meanwhile
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      if (!this.failing) this.deps.log.warn({ err: errorMessage(err) }, 'API key last-use times could not be recorded');
      this.failing = true;
    }
  }
}
