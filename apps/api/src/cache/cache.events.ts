// Invalidates the response cache when the data behind it changes, on every replica: rates.*.updated
// from the worker, currencies.created|updated|deleted from any api replica (and the CBR poller).
import {
  SUBJECTS,
  binanceUpdatedEvent,
  cbrUpdatedEvent,
  currencyDeletedEvent,
  currencyEvent,
} from '@ratewire/contracts';
import { decodeMessage, type Logger, type NatsConnection } from '@ratewire/runtime';
import type { z } from 'zod';

import { ResponseCache } from './response-cache.ts';

const WATCHED: { subject: string; family: string; schema: z.ZodType }[] = [
  { subject: SUBJECTS.ratesCbrUpdated, family: 'cbr', schema: cbrUpdatedEvent },
  { subject: SUBJECTS.ratesBinanceUpdated, family: 'binance', schema: binanceUpdatedEvent },
  { subject: SUBJECTS.currenciesCreated, family: 'currencies', schema: currencyEvent },
  { subject: SUBJECTS.currenciesUpdated, family: 'currencies', schema: currencyEvent },
  { subject: SUBJECTS.currenciesDeleted, family: 'currencies', schema: currencyDeletedEvent },
];

/** Subscribes; the returned function unsubscribes. */
export function watchCacheEvents(deps: {
  nats: NatsConnection;
  cache: ResponseCache;
  log: Logger;
}): () => Promise<void> {
  const { nats, cache, log } = deps;
  const subs = WATCHED.map(({ subject, family, schema }) =>
    nats.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          log.warn({ err: err.message, subject }, 'cache event subscription error');
          return;
        }
        try {
          const decoded = decodeMessage(schema, msg.data);
          if (!decoded.ok) {
            // still invalidate: a needless rebuild is cheap, a stale answer is not
            log.warn({ subject, reason: decoded.reason }, 'malformed event; cache invalidated anyway');
          }
          cache.invalidate(family, ResponseCache.versionOf(subject, msg.data));
        } catch (e) {
          log.error({ err: e, subject }, 'cache event handler failed');
        }
      },
    }),
  );
  return () => {
    for (const sub of subs) sub.unsubscribe();
    return Promise.resolve();
  };
}
