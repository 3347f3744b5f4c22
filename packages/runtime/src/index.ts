// @ratewire/runtime: what every Ratewire process runs on — its boot sequence, settings, logs, the
// shutdown order, the Redis and NATS connections, the health port, message decoding and wake loops.
export {
  bootProcess,
  connectNats,
  connectRedis,
  serveHealth,
  type BootedProcess,
  type HealthSettings,
} from './boot.ts';
export {
  Cluster,
  ConnectionSettingError,
  Redis,
  createNats,
  createRedis,
  createRedisSubscriber,
  maskUrl,
  natsCheck,
  redisCheck,
  timed,
  type NatsConnection,
  type NatsConnectionSettings,
  type RedisClient,
  type RedisConnectionSettings,
} from './connections.ts';
export { errorMessage, isUnavailableError } from './errors.ts';
export { PULL_FAILOVER, ensureConsumerReplicas, ensureStreamReplicas, withReplicasHint } from './jetstream-replicas.ts';
export { startHealthServer, type Checks, type ReadinessInfo } from './health-server.ts';
export { createLogger, type Logger } from './logger.ts';
export {
  MAX_JSON_DEPTH,
  decodeMessage,
  jsonDepth,
  type DecodeFailure,
  type DecodeOptions,
  type Decoded,
} from './messages.ts';
export { SettingsError, exitOnSettingError, loadSettings, parseSettings } from './settings.ts';
export { Shutdown, withTimeout, type ShutdownPhase } from './shutdown.ts';
export { nextRetryMs } from './retry-schedule.ts';
export { WakeLoop, type RoundContext, type WakeLoopOptions } from './wake-loop.ts';
