// Group commit for submits: the jobs of requests that arrive together are written by one statement
// (one commit, one round trip) instead of one each. Nothing waits on a timer: what arrived during
// one event-loop turn, or while earlier batches were in flight, goes out together, so a lone
// request is written at once. Each caller still learns whether its own job was inserted.
import type { InsertedJob, NewJob } from '@ratewire/db';

/** Writes a batch of jobs in one statement; returns the rows inserted (a repeat is left out). */
export type WriteJobs = (jobs: readonly NewJob[]) => Promise<InsertedJob[]>;

interface Pending {
  job: NewJob;
  resolve: (row: InsertedJob | null) => void;
  reject: (err: unknown) => void;
}

export class SubmitBatcher {
  private readonly writeJobs: WriteJobs;
  private readonly maxInFlight: number;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(deps: { writeJobs: WriteJobs; maxInFlight?: number; maxBatch?: number }) {
    this.writeJobs = deps.writeJobs;
    this.maxInFlight = deps.maxInFlight ?? 4;
    this.maxBatch = deps.maxBatch ?? 500;
  }

  /** Resolves with the inserted row, or null when (user, request_id) already existed. */
  insert(job: NewJob): Promise<InsertedJob | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    let rows: InsertedJob[];
    try {
      rows = await this.writeJobs(batch.map((p) => p.job));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // one bad job must not fail the others: write each alone
      await Promise.all(batch.map((p) => this.write([p])));
      return;
    }
    const byKey = new Map(rows.map((r) => [`${r.user_id}\n${r.request_id}`, r]));
    for (const p of batch) {
      const key = `${p.job.userId}\n${p.job.requestId}`;
      const row = byKey.get(key) ?? null;
      // the same request twice in one batch: the first gets the new row, the second sees it exist
      byKey.delete(key);
      p.resolve(row);
    }
  }
}
