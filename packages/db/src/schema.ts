// Hand-kept table types for Kysely. One interface per table; keep in step with migrations/.
import type { ColumnType, Generated } from 'kysely';

/** timestamptz: read as Date, written as Date or ISO string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** numeric: always a decimal string. */
export type Numeric = string;

export interface UsersTable {
  id: Generated<string>;
  email: string;
  name: string | null;
  password_hash: string;
  role: Generated<'user' | 'admin'>;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
  email_confirmed_at: Timestamp | null;
  password_changed_at: Timestamp | null;
  /** A session created before this is refused (logout-all, password reset). */
  sessions_valid_after: Timestamp | null;
}

/** One login: an access token names its session (`sid`), so it can be taken back. */
export interface SessionsTable {
  id: Generated<string>;
  user_id: string;
  created_at: Generated<Timestamp>;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export type LinkPurpose = 'confirm_email' | 'password_reset';

/** A mailed single-use token: only its SHA-256 is kept. */
export interface LinkTokensTable {
  token_hash: Buffer;
  user_id: string;
  purpose: LinkPurpose;
  email: string;
  created_at: Generated<Timestamp>;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  voided_at: Timestamp | null;
}

/** An API key (`rw_<lookup>_<secret>`): the lookup part finds it, the SHA-256 of the whole key proves it. */
export interface ApiKeysTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  lookup: string;
  secret_hash: Buffer;
  scopes: string[];
  created_at: Generated<Timestamp>;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

/** Mail to send, written in the transaction that causes it; sent (with retries) by a worker. */
export interface MailOutboxTable {
  id: Generated<string>;
  kind: LinkPurpose | 'alert_triggered';
  /** The firing an 'alert_triggered' mail tells of (null for the other kinds). */
  alert_event_id: string | null;
  /** null on a password-reset request until the worker resolves the address ('discarded' when no account has it). */
  user_id: string | null;
  to_address: string;
  status: Generated<'pending' | 'sent' | 'failed' | 'discarded'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  last_error: string | null;
  message_id: string | null;
  created_at: Generated<Timestamp>;
  sent_at: Timestamp | null;
}

/** Kept by triggers on cbr_rates: what each effective date holds (a range's fingerprint). */
export interface CbrRateDaysTable {
  date: string;
  rows: number;
  written_at: Timestamp;
}

export interface CbrRatesTable {
  date: string;
  code: string;
  num_code: string | null;
  cbr_id: string | null;
  name: string;
  nominal: number;
  value: Numeric;
  unit_rate: Numeric;
  fetched_at: Generated<Timestamp>;
}

export interface CbrDaysTable {
  requested: string;
  effective: string;
  fetched_at: Generated<Timestamp>;
}

export interface CurrenciesTable {
  id: Generated<number>;
  code: string;
  name: string | null;
  nominal: Generated<number>;
  /** Rubles for `nominal` units. */
  rate: Numeric;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface BinanceSymbolsTable {
  symbol: string;
  base_asset: string;
  quote_asset: string;
  status: string;
  updated_at: Generated<Timestamp>;
}

export interface BinancePricesTable {
  symbol: string;
  price: Numeric;
  updated_at: Timestamp;
}

export interface BinancePriceHistoryTable {
  id: Generated<string>;
  symbol: string;
  price: Numeric;
  observed_at: Timestamp;
}

export interface FeedStatusTable {
  source: 'cbr' | 'binance';
  interval_ms: number;
  last_success_at: Timestamp | null;
  last_attempt_at: Timestamp | null;
  last_error: string | null;
  last_error_at: Timestamp | null;
  consecutive_failures: Generated<number>;
  paused_until: Timestamp | null;
  updated_at: Generated<Timestamp>;
  /** Binance: where the prices come from now (BINANCE_STREAM); null for CBR. */
  mode: 'stream' | 'polling' | null;
  mode_setting: 'off' | 'auto' | 'on' | null;
  mode_since: Timestamp | null;
}

export interface TasksTable {
  id: Generated<string>;
  kind: string;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  detail: string | null;
  requested_by: string | null;
  created_at: Generated<Timestamp>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface ExchangeJobsTable {
  id: Generated<string>;
  user_id: string;
  request_id: string;
  body_hash: string;
  request: ColumnType<unknown, string, string>;
  currency: string | null;
  rate: Numeric;
  callback_url: string | null;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  /** [{denomination_id, subtotal_rub}] with subtotal_rub a decimal string. */
  breakdown: ColumnType<unknown, string | null, string | null> | null;
  total_rub: Numeric | null;
  error: string | null;
  created_at: Generated<Timestamp>;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
}

export interface OutboxTable {
  id: Generated<string>;
  subject: string;
  msg_id: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Generated<Timestamp>;
  published_at: Timestamp | null;
}

export interface CallbackDeliveriesTable {
  id: Generated<string>;
  /** What is delivered: a job's result or an alert's firing (exactly one of the two is set). */
  job_id: string | null;
  alert_event_id: string | null;
  url: string;
  webhook_id: string;
  status: Generated<'pending' | 'delivered' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Timestamp | null;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

/** A user's webhook secret (`whsec_…`) and, for 24 h after a rotation, the one it replaced. */
export interface WebhookSecretsTable {
  user_id: string;
  secret: string;
  created_at: Generated<Timestamp>;
  previous_secret: string | null;
  previous_expires_at: Timestamp | null;
}

export interface DB {
  users: UsersTable;
  cbr_rates: CbrRatesTable;
  cbr_rate_days: CbrRateDaysTable;
  cbr_days: CbrDaysTable;
  currencies: CurrenciesTable;
  binance_symbols: BinanceSymbolsTable;
  binance_prices: BinancePricesTable;
  binance_price_history: BinancePriceHistoryTable;
  feed_status: FeedStatusTable;
  tasks: TasksTable;
  exchange_jobs: ExchangeJobsTable;
  outbox: OutboxTable;
  callback_deliveries: CallbackDeliveriesTable;
  webhook_secrets: WebhookSecretsTable;
  sessions: SessionsTable;
  link_tokens: LinkTokensTable;
  api_keys: ApiKeysTable;
  mail_outbox: MailOutboxTable;
  alerts: AlertsTable;
  alert_events: AlertEventsTable;
}

export interface AlertsTable {
  id: Generated<string>;
  user_id: string;
  source: 'binance' | 'cbr';
  symbol: string;
  condition_type: 'above' | 'below' | 'crosses_above' | 'crosses_below' | 'pct_change';
  level: Numeric | null;
  window_seconds: number | null;
  threshold_pct: Numeric | null;
  direction: 'up' | 'down' | 'both' | null;
  frequency: Generated<'once' | 'every_time' | 'once_per_day'>;
  cooldown_seconds: Generated<number>;
  rearm_pct: Generated<Numeric>;
  expires_at: Timestamp | null;
  channels: string[];
  callback_url: string | null;
  status: Generated<'active' | 'triggered' | 'paused' | 'expired'>;
  armed: Generated<boolean>;
  waiting: Generated<boolean>;
  last_fired_at: Timestamp | null;
  fired_count: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Moved by trigger when the definition or the status changes (what evaluators index). */
  changed_at: Generated<Date>;
}

export interface AlertEventsTable {
  id: Generated<string>;
  alert_id: string;
  user_id: string;
  source: 'binance' | 'cbr';
  symbol: string;
  observation: string;
  test: Generated<boolean>;
  observed_value: Numeric;
  previous_value: Numeric | null;
  change_pct: Numeric | null;
  observed_at: Timestamp;
  condition: unknown;
  channels: string[];
  created_at: Generated<Date>;
  published_at: Timestamp | null;
}
