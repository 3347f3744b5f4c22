// Currency rows: reads (pages of the list, with their cache policy) and admin writes. Each
// committed write publishes currencies.created|updated|deleted and bumps this replica's version of
// the family at once (its cached lists are rebuilt); the other replicas follow on the same NATS event.
import {
  SUBJECTS,
  type CurrencyCreateBody,
  type CurrencyDeletedEvent,
  type CurrencyDto,
  type CurrencyEvent,
  type CurrencyPatchBody,
} from '@ratewire/contracts';
import {
  currencyEventOf,
  deleteCurrency,
  findCurrency,
  insertCurrency,
  isUniqueViolation,
  listCurrencies,
  updateCurrency,
  type CurrencyRow,
  type Database,
} from '@ratewire/db';
import { unitRate } from '@ratewire/money';
import type { Logger, NatsConnection } from '@ratewire/runtime';

import { AppError } from '../http/app-error.ts';
import { CACHE_REVALIDATE, type Cacheable } from '../cache/cache-keys.ts';
import { ResponseCache, type FamilyVersions } from '../cache/response-cache.ts';

export function toCurrencyDto(row: CurrencyRow): CurrencyDto {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    nominal: row.nominal,
    rate: row.rate,
    unit_rate: unitRate(row.rate, row.nominal),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface CurrenciesServiceDeps {
  db: Database;
  nats: NatsConnection;
  log: Logger;
  versions: FamilyVersions;
}

export interface CurrencyPage {
  rows: CurrencyRow[];
  limit: number;
  offset: number;
  /** Whether rows follow this page. */
  more: boolean;
}

export class CurrenciesService {
  private readonly deps: CurrenciesServiceDeps;

  constructor(deps: CurrenciesServiceDeps) {
    this.deps = deps;
  }

  /** A page of currencies by id; revalidated on every use (cheap with the ETag), since admins edit them. */
  async list(limit: number, offset: number): Promise<Cacheable<CurrencyPage>> {
    const rows = await listCurrencies(this.deps.db, limit + 1, offset);
    return {
      data: { rows: rows.slice(0, limit), limit, offset, more: rows.length > limit },
      cacheControl: CACHE_REVALIDATE,
    };
  }

  async get(id: number): Promise<CurrencyRow> {
    const row = await findCurrency(this.deps.db, id);
    if (!row) throw notFound(id);
    return row;
  }

  async create(body: CurrencyCreateBody): Promise<CurrencyRow> {
    let row: CurrencyRow;
    try {
      row = await insertCurrency(this.deps.db, {
        code: body.code,
        name: body.name ?? null,
        nominal: body.nominal,
        rate: body.rate,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate(body.code);
      throw err;
    }
    this.published(SUBJECTS.currenciesCreated, currencyEventOf(row, 'api'));
    return row;
  }

  async update(id: number, changes: CurrencyPatchBody): Promise<CurrencyRow> {
    let row: CurrencyRow | undefined;
    try {
      row = await updateCurrency(this.deps.db, id, changes);
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate(changes.code ?? '');
      throw err;
    }
    if (!row) throw notFound(id);
    this.published(SUBJECTS.currenciesUpdated, currencyEventOf(row, 'api'));
    return row;
  }

  async remove(id: number): Promise<void> {
    const row = await deleteCurrency(this.deps.db, id);
    if (!row) throw notFound(id);
    const event: CurrencyDeletedEvent = { id: row.id, code: row.code };
    this.published(SUBJECTS.currenciesDeleted, event);
  }

  /** After commit: drop this replica's cached lists, then tell everyone (the echo is a no-op here). */
  private published(subject: string, payload: CurrencyEvent | CurrencyDeletedEvent): void {
    const data = JSON.stringify(payload);
    this.deps.versions.invalidate('currencies', ResponseCache.versionOf(subject, data));
    try {
      this.deps.nats.publish(subject, data);
    } catch (err) {
      // the write is committed; a closed connection must not turn it into an error reply
      this.deps.log.error({ err, subject }, 'could not publish a currency event');
    }
  }
}

const notFound = (id: number) => new AppError(404, 'currency_not_found', `no currency with id ${id}`);
const duplicate = (code: string) => new AppError(409, 'currency_exists', `a currency with code ${code} already exists`);
