// Serves `rates.cbr.fetch-day` on every replica (queue group `workers`): the api asks for a
// past day it does not have; one worker fetches, stores and answers.
import { decodeMessage, errorMessage, type Logger, type NatsConnection } from '@ratewire/runtime';

import { SUBJECTS, cbrFetchDayReply, cbrFetchDayRequest } from '@ratewire/contracts';

import { fetchCbrDay, type CbrServiceDeps } from './cbr.service.ts';

export const FETCH_DAY_QUEUE = 'workers';

export function serveCbrFetchDay(
  deps: CbrServiceDeps & { nats: NatsConnection; log: Logger },
  /** Tests give a subject of their own so that no other worker on the shared NATS answers. */
  subject: string = SUBJECTS.ratesCbrFetchDay,
): { stop(): Promise<void> } {
  const { nats, log } = deps;
  const sub = nats.subscribe(subject, { queue: FETCH_DAY_QUEUE });
  // the same day asked twice at once is fetched once
  const pending = new Map<string, Promise<ReturnType<typeof cbrFetchDayReply.parse>>>();
  const answer = async (raw: Uint8Array) => {
    const req = decodeMessage(cbrFetchDayRequest, raw);
    if (!req.ok) {
      const error = req.kind === 'not-json' ? 'request is not JSON' : 'expected {date: "YYYY-MM-DD"}';
      return cbrFetchDayReply.parse({ ok: false, error });
    }
    const { date } = req.value;
    let work = pending.get(date);
    if (!work) {
      work = fetchCbrDay(deps, date)
        .then((r) => {
          log.info({ requested: date, effective: r.effective }, `cbr fetch-day: ${r.summary}`);
          return cbrFetchDayReply.parse({ ok: true, requested: date, effective: r.effective });
        })
        .catch((err: unknown) => {
          log.warn({ requested: date, err: errorMessage(err) }, 'cbr fetch-day failed');
          return cbrFetchDayReply.parse({ ok: false, error: errorMessage(err) });
        })
        .finally(() => pending.delete(date));
      pending.set(date, work);
    }
    return work;
  };
  const done = (async () => {
    for await (const msg of sub) {
      void answer(msg.data)
        .then((reply) => {
          if (msg.reply) msg.respond(JSON.stringify(reply));
        })
        .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'cbr fetch-day reply failed'));
    }
  })().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'cbr fetch-day subscription ended'));
  return {
    async stop() {
      await sub.drain().catch(() => undefined);
      await done;
      await Promise.allSettled([...pending.values()]);
    },
  };
}
