// Events after a committed CBR write: rates.cbr.updated (changed codes only) and
// currencies.created / currencies.updated for the `currencies` rows the write changed.
import { normalize } from '@ratewire/money';
import { errorMessage, type Logger, type NatsConnection } from '@ratewire/runtime';

import {
  SUBJECTS,
  cbrUpdatedEvent,
  currencyEvent,
  type CbrUpdatedEvent,
  type CurrencyEvent,
} from '@ratewire/contracts';
import { currencyEventOf, type CurrencyRow, type StoreCbrDayResult } from '@ratewire/db';

export function currencyPayload(row: CurrencyRow): CurrencyEvent {
  return currencyEvent.parse(currencyEventOf(row, 'cbr'));
}

export function cbrUpdatedPayload(date: string, result: StoreCbrDayResult): CbrUpdatedEvent {
  return cbrUpdatedEvent.parse({
    date,
    changed: result.changed.map((c) => ({
      code: c.code,
      value: normalize(c.value),
      nominal: c.nominal,
      unit_rate: normalize(c.unit_rate),
      previous: c.previous
        ? {
            value: normalize(c.previous.value),
            nominal: c.previous.nominal,
            unit_rate: normalize(c.previous.unit_rate),
          }
        : null,
    })),
  });
}

/** Publishes what a committed write changed; nothing when nothing changed. Never throws. */
export function publishCbrChanges(nats: NatsConnection, log: Logger, date: string, result: StoreCbrDayResult): void {
  try {
    if (result.changed.length) {
      nats.publish(SUBJECTS.ratesCbrUpdated, JSON.stringify(cbrUpdatedPayload(date, result)));
    }
    for (const row of result.currenciesCreated) {
      nats.publish(SUBJECTS.currenciesCreated, JSON.stringify(currencyPayload(row)));
    }
    for (const row of result.currenciesUpdated) {
      nats.publish(SUBJECTS.currenciesUpdated, JSON.stringify(currencyPayload(row)));
    }
  } catch (err) {
    log.warn({ err: errorMessage(err), date }, 'cbr change events not published');
  }
}
