// Support for the REST tests: the api on a NATS server of its own (so events and fetch-day
// requests stay within the test), rows inserted straight into the rate tables, raw HTTP reads.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

import { sql } from 'kysely';

import { upsertBinanceSymbols, type Database } from '@ratewire/db';
import { div, normalize } from '@ratewire/money';
import { startPrivateNats, type PrivateServer } from '@ratewire/testkit/private-servers';

import { startTestApi, type TestApi } from './harness.ts';

export interface RestEnv extends TestApi {
  privateNats: PrivateServer;
}

export async function startRestApi(
  env: Record<string, string> = {},
  options: { poolMax?: number } = {},
): Promise<RestEnv> {
  const privateNats = await startPrivateNats();
  const api = await startTestApi({ NATS_URL: privateNats.url, ...env }, options);
  return {
    ...api,
    privateNats,
    async close() {
      await api.close();
      await privateNats.close();
    },
  };
}

export interface CbrRow {
  code: string;
  nominal: number;
  value: string;
  name?: string;
}

/** Stores one published CBR day (and `requested → date` for each of `requested`). */
export async function insertCbrDay(db: Database, date: string, rows: CbrRow[], requested: string[] = []) {
  for (const r of rows) {
    await db
      .insertInto('cbr_rates')
      .values({
        date,
        code: r.code,
        num_code: null,
        cbr_id: null,
        name: r.name ?? r.code,
        nominal: r.nominal,
        value: r.value,
        unit_rate: normalize(div(r.value, r.nominal)),
      })
      .onConflict((oc) => oc.columns(['date', 'code']).doUpdateSet({ value: r.value, nominal: r.nominal }))
      .execute();
  }
  for (const day of [date, ...requested]) {
    await db
      .insertInto('cbr_days')
      .values({ requested: day, effective: date })
      .onConflict((oc) => oc.column('requested').doUpdateSet({ effective: date }))
      .execute();
  }
}

/** Latest prices, and each symbol in the symbol list with `status` (TRADING unless `statuses` says otherwise). */
export async function upsertBinancePrices(
  db: Database,
  prices: Record<string, string>,
  at: Date = new Date(),
  statuses: Record<string, string> = {},
): Promise<void> {
  const symbols = Object.keys(prices);
  if (!symbols.length) return;
  await upsertBinanceSymbols(
    db,
    symbols.map((symbol) => ({
      symbol,
      baseAsset: symbol.slice(0, 3),
      quoteAsset: symbol.slice(3),
      status: statuses[symbol] ?? 'TRADING',
    })),
  );
  await sql`
    insert into binance_prices (symbol, price, updated_at)
    select s, p, ${at}::timestamptz from unnest(${symbols}::text[], ${symbols.map((s) => prices[s])}::numeric[]) as t(s, p)
    on conflict (symbol) do update set price = excluded.price, updated_at = excluded.updated_at
  `.execute(db);
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A GET without any automatic decompression: the bytes exactly as sent. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Subscribes to `subject` (the server knows once this resolves); `next` is the first message.
 * Call it before the action that publishes.
 */
export async function listen<T = unknown>(
  nats: TestApi['deps']['nats'],
  subject: string,
  timeoutMs = 5000,
): Promise<{ next: Promise<{ subject: string; data: T }> }> {
  const sub = nats.subscribe(subject, { max: 1, timeout: timeoutMs });
  const next = (async () => {
    for await (const msg of sub) {
      return { subject: msg.subject, data: JSON.parse(Buffer.from(msg.data).toString('utf8')) as T };
    }
    throw new Error(`no message on ${subject}`);
  })();
  next.catch(() => {}); // awaited by the test; never an unhandled rejection
  await nats.flush();
  return { next };
}
