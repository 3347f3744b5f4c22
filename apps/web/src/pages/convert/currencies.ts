// The CBR currencies the Convert and Charts pages offer: the codes of the newest CBR publication
// (GET /api/v1/rates/cbr/latest) and its effective date, with names from GET /api/v1/currencies when
// it answers. Loaded once per page load and shared; a failed load is tried again next time.
import { currencyListSchema } from '@ratewire/contracts/currencies.schemas';
import { cbrRatesResponse } from '@ratewire/contracts/rates.schemas';

import { request } from '../../core/api.ts';

export interface CbrCurrencies {
  /** Effective date of the newest CBR publication. */
  date: string;
  /** Codes CBR publishes, sorted, RUB included. */
  codes: string[];
  /** code → name, where the API has one. */
  names: Record<string, string>;
}

let pending: Promise<CbrCurrencies> | undefined;

async function load(): Promise<CbrCurrencies> {
  const [latest, list] = await Promise.all([
    request('/api/v1/rates/cbr/latest', { schema: cbrRatesResponse }),
    request('/api/v1/currencies', { query: { limit: 1000 }, schema: currencyListSchema }).catch(() => undefined),
  ]);
  const names: Record<string, string> = { RUB: 'Russian ruble' };
  for (const c of list?.items ?? []) if (c.name) names[c.code] = c.name;
  const codes = [...new Set([...Object.keys(latest.rates), 'RUB'])].sort();
  return { date: latest.date, codes, names };
}

export function cbrCurrencies(): Promise<CbrCurrencies> {
  pending ??= load().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

/** `USD — US Dollar`, or the code alone. */
export const currencyLabel = (list: CbrCurrencies, code: string): string =>
  list.names[code] ? `${code} — ${list.names[code]}` : code;
