// The JetStream stream that carries exchange jobs from the api's outbox to the workers. Both the
// api and the worker ensure it at start-up, so either may come up first.
import { JOBS_STREAM, SUBJECTS } from '@ratewire/contracts';
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type NatsConnection, type StreamConfig } from 'nats';

/** Re-publishes of one outbox row within this window are dropped by JetStream (Nats-Msg-Id). */
export const JOBS_DUPLICATE_WINDOW_MS = 10 * 60_000;

export function jobsStreamConfig(): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: JOBS_STREAM,
    subjects: [SUBJECTS.jobsSubmit],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(JOBS_DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  };
}

/**
 * Creates the stream when missing; when it exists, makes sure it still takes the submit subject and
 * keeps a long enough dedupe window. Two processes racing to create it both succeed (same config).
 */
export async function ensureJobsStream(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const wanted = jobsStreamConfig();
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(wanted.name);
      const subjects = info.config.subjects ?? [];
      const window = info.config.duplicate_window ?? 0;
      if (!subjects.includes(SUBJECTS.jobsSubmit) || window < nanos(JOBS_DUPLICATE_WINDOW_MS)) {
        // retention cannot change on an existing stream; only widen what may be widened
        await jsm.streams.update(wanted.name, {
          ...info.config,
          subjects: [...new Set([...subjects, SUBJECTS.jobsSubmit])],
          duplicate_window: Math.max(window, nanos(JOBS_DUPLICATE_WINDOW_MS)),
        });
      }
      return;
    } catch (err) {
      if (!isNotFound(err) || attempt >= 3) throw err;
    }
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (err) {
      // another process created it between our info and add: loop and read it back
      if (attempt >= 3) throw err;
    }
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; code?: string; message?: string };
  return e.api_error?.err_code === 10059 || e.code === '404' || /stream not found/i.test(e.message ?? '');
}
