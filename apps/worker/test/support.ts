// Shared set-up for the worker's integration tests: a database of its own, the real NATS, a
// silent logger, and a collector for NATS messages.
import { createLogger, createNats, type NatsConnection } from '@ratewire/runtime';
import { serviceUrls } from '@ratewire/testkit';

export const testLog = createLogger('worker-test', process.env.TEST_LOG_LEVEL ?? 'silent');

export async function connectNats(name = 'worker-test'): Promise<NatsConnection> {
  return createNats(serviceUrls().NATS_URL.split(','), testLog, name);
}

export interface Collector<T> {
  messages: { subject: string; data: T }[];
  /** Waits until every message published before this call (on `publisher`) has arrived. */
  settle(publisher: NatsConnection): Promise<void>;
  stop(): void;
}

/** Subscribes to `subject` (wildcards allowed) and keeps the JSON payloads accepted by `keep`. */
export function collect<T = unknown>(
  nc: NatsConnection,
  subject: string,
  keep: (data: T, subject: string) => boolean = () => true,
): Collector<T> {
  const messages: { subject: string; data: T }[] = [];
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const data = JSON.parse(new TextDecoder().decode(msg.data)) as T;
        if (keep(data, msg.subject)) messages.push({ subject: msg.subject, data });
      } catch {
        // not JSON: not ours
      }
    },
  });
  return {
    messages,
    async settle(publisher) {
      await publisher.flush();
      await nc.flush();
    },
    stop() {
      sub.unsubscribe();
    },
  };
}

/**
 * The same NATS connection, noting every subject published through it: lets a test on the
 * shared NATS tell what *this* code published from what other suites publish meanwhile.
 */
export function recordingPublishes(nc: NatsConnection): { nc: NatsConnection; published: string[] } {
  const published: string[] = [];
  const proxy = new Proxy(nc, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'publish') {
        return (subject: string, ...rest: unknown[]) => {
          published.push(subject);
          return (value as (...args: unknown[]) => void).call(target, subject, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { nc: proxy, published };
}
