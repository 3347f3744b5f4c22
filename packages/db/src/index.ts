// @ratewire/db: the connections, the migrations, and all the SQL, one module per table family.
export {
  connectPostgres,
  createDb,
  createPool,
  ping,
  preparedAs,
  type Database,
  type Pool,
  type PoolOptions,
} from './pool.ts';
export { connectDedicated, type DedicatedClient } from './dedicated.ts';
export { MIGRATIONS_DIR, assertMigrated, createMigrator, ensureDatabase } from './migrate.ts';
export type {
  AlertEventsTable,
  AlertsTable,
  ApiKeysTable,
  BinancePriceHistoryTable,
  BinancePricesTable,
  BinanceSymbolsTable,
  CallbackDeliveriesTable,
  CbrDaysTable,
  CbrRatesTable,
  CurrenciesTable,
  DB,
  ExchangeJobsTable,
  FeedStatusTable,
  LinkPurpose,
  LinkTokensTable,
  MailOutboxTable,
  Numeric,
  OutboxTable,
  SessionsTable,
  TasksTable,
  Timestamp,
  UsersTable,
  WebhookSecretsTable,
} from './schema.ts';

// users
export {
  USERS_CHANGED_CHANNEL,
  changePassword,
  endAllSessions,
  findUserByEmail,
  findUserById,
  insertUser,
  listenUserChanges,
  passwordHashOf,
  updateUserCredentials,
  type UserRow,
  type UserWithHash,
} from './users/users.repository.ts';

// sessions
export {
  SESSIONS_CHANGED_CHANNEL,
  createSession,
  findSession,
  listenSessionChanges,
  pruneSessions,
  revokeSession,
  type SessionRow,
} from './sessions/sessions.repository.ts';

// link_tokens
export {
  LINK_TOKEN_TTL_SECONDS,
  confirmEmailWithToken,
  issueLinkToken,
  linkTokenHash,
  pruneLinkTokens,
  resetPasswordWithToken,
  type LinkTokenRefusal,
} from './link-tokens/link-tokens.repository.ts';

// mail_outbox
export {
  claimDueMail,
  enqueueMail,
  enqueuePasswordReset,
  insertUserWithConfirmation,
  msUntilNextMail,
  pruneMailOutbox,
  recordMailOutcomes,
  type DueAlertMail,
  type DueLinkMail,
  type DueMail,
  type MailKind,
  type MailOutcome,
} from './mail-outbox/mail-outbox.repository.ts';

// api_keys
export {
  API_KEYS_CHANGED_CHANNEL,
  API_KEY_MARK,
  apiKeyDigest,
  apiKeyMatches,
  apiKeyPrefix,
  findApiKeyByLookup,
  generateApiKey,
  insertApiKey,
  listApiKeys,
  parseApiKey,
  recordApiKeyUses,
  revokeApiKey,
  type ApiKeyCheckRow,
  type ApiKeyRow,
  type ApiKeySecret,
  type InsertApiKeyRefusal,
  type PresentedApiKey,
} from './api-keys/api-keys.repository.ts';

// webhook_secrets
export {
  PREVIOUS_WEBHOOK_SECRET_HOURS,
  readWebhookSecret,
  rotateWebhookSecret,
  webhookSecretsFor,
  type WebhookSecretRow,
} from './webhook-secrets/webhook-secrets.repository.ts';

// currencies
export {
  currencyEventOf,
  deleteCurrency,
  findCurrency,
  insertCurrency,
  isUniqueViolation,
  listCurrencies,
  updateCurrency,
  type CurrencyRow,
} from './currencies/currencies.repository.ts';

// cbr_rates, cbr_days
export {
  cbrRatesOn,
  cbrUnknownCodes,
  latestCbrDate,
  listCbrDays,
  rateOn,
  resolvedCbrDay,
  storeCbrDay,
  type CbrRateChange,
  type CbrRateInput,
  type CbrRateRow,
  type CbrRateValues,
  type CbrUnitRate,
  type StoreCbrDayResult,
} from './cbr-rates/cbr-rates.repository.ts';
export {
  CBR_HISTORY_COLUMNS,
  cbrEffectiveOn,
  cbrHistoryQuery,
  cbrRangeFingerprint,
  cbrSeriesQuery,
  cbrUnitRatesBefore,
  cbrUnitRatesQuery,
  type CbrSeriesStreamRow,
  type CbrUnitRateRow,
} from './cbr-rates/cbr-history.ts';

// binance_symbols, binance_prices, binance_price_history
export {
  BinanceSnapshotWriter,
  deleteBinanceHistoryBatch,
  listBinancePrices,
  persistBinanceSnapshot,
  upsertBinanceSymbols,
  type BinancePriceChange,
  type BinancePriceRow,
  type BinanceSymbolInput,
  type SnapshotWriterOptions,
} from './binance-prices/binance-prices.repository.ts';
export {
  BINANCE_INTERVALS,
  binanceOhlcQuery,
  binancePricesBefore,
  type BinanceInterval,
  type BinanceOhlcRow,
} from './binance-prices/binance-history.ts';
export { CURSOR_BATCH_ROWS, streamRows } from './cursor.ts';

// feed_status
export {
  getFeedStatus,
  listFeedStatus,
  recordFeedFailure,
  recordFeedMode,
  recordFeedSuccess,
  type FeedMode,
  type FeedModeSetting,
  type FeedSource,
  type FeedStatusRow,
} from './feed-status/feed-status.repository.ts';

// tasks
export {
  claimTask,
  findTask,
  finishTask,
  listUnfinishedTasks,
  queueTask,
  type TaskRow,
} from './tasks/tasks.repository.ts';

// the feed leader's advisory lock
export { tryAdvisoryLock } from './leader-lock/leader-lock.repository.ts';

// exchange_jobs, outbox, callback_deliveries
export {
  findJobByRequest,
  getJob,
  insertJobsWithOutbox,
  jobOwner,
  listJobs,
  lockJobs,
  storeJobResults,
  type ClaimedJob,
  type InsertedJob,
  type JobResult,
  type JobRow,
  type JobStatus,
  type NewJob,
} from './exchange-jobs/exchange-jobs.repository.ts';
export {
  claimOutbox,
  markOutboxPublished,
  pruneOutboxPublished,
  type OutboxRow,
} from './exchange-jobs/outbox.repository.ts';
export {
  claimDueDeliveries,
  insertCallbackDeliveries,
  msUntilNextDelivery,
  recordDeliveryOutcomes,
  type DeliveryOutcome,
  type DueAlertDelivery,
  type DueDelivery,
  type DueJobDelivery,
  type NewDelivery,
} from './exchange-jobs/callback-deliveries.repository.ts';

// alerts and their firings
export {
  CONDITION_JSON,
  activeAlertsPage,
  alertSubject,
  alertsChangedSince,
  databaseNow,
  deleteAlert,
  expireAlerts,
  findAlert,
  insertAlertWithinLimit,
  listAlerts,
  updateAlert,
  type AlertChange,
  type AlertConditionType,
  type AlertDefinition,
  type AlertIndexRow,
  type AlertRow,
  type AlertStatusValue,
  type AlertSubject,
  type NewAlert,
} from './alerts/alerts.repository.ts';
export {
  claimUnpublishedAlertEvents,
  commitAlertTick,
  insertTestFiring,
  listAlertEvents,
  markAlertEventsPublished,
  type AlertEventRow,
  type AlertFiringRow,
  type AlertObservationInput,
  type AlertTick,
  type AlertTickResult,
  type StoredDelivery,
} from './alerts/alert-events.repository.ts';
export { alertCallbackPayload, alertFiringEvent, announceAlertFirings } from './alerts/alert-firing.ts';
