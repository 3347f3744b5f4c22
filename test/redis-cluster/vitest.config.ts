import { fileURLToPath } from 'node:url';

import { systemProject } from '../../vitest.shared.ts';

// The Redis-facing tests of the api, notifier and worker again, on a real Redis Cluster (3 masters,
// 3 replicas) that globalSetup starts once; setup.ts points REDIS_URL at it in each test file (and
// empties it before each), so serviceUrls(), the api harness, the /ws stack and the notifier bridge
// all run on the cluster. Plus the failover test (ws-failover.spec.ts).
//
// Not included, and why:
// - tests that stop and restart their own single Redis to make an outage (ws-recovery, outage, the
//   api-key limiter's fail-open part runs on its own private Redis inside api-keys.spec.ts),
//   start one with credentials (ws-limits, the connections specs) or read every key with KEYS and
//   a private Redis's whole contents (notifier fuzz, api fuzz-ws, response-cache): a cluster
//   cannot be stopped by one file, and KEYS answers one node's slots only; the failover test
//   covers the outage case on the cluster;
// - tests that do not touch Redis, or only through the single shared one by design (feeds,
//   database, mail, web console, the compose stack).
const files = [
  // WS channels, history and `since` replays, reference-counted subscriptions, two notifier replicas
  'apps/api/test/ws-gateway.spec.ts',
  'apps/api/test/ws-outside-tasks.spec.ts',
  'apps/api/test/ws-alerts.spec.ts',
  // the notifier's emit script (stream + dedupe key in one slot) and its `notifications` subscription
  'apps/notifier/test/bridge.spec.ts',
  // login and mail-request limits (one MULTI per key), API-key token buckets (EVALSHA / EVAL)
  'apps/api/test/auth.spec.ts',
  'apps/api/test/api-keys.spec.ts',
  'apps/api/test/fast-lane.spec.ts',
  // job and task progress pipelines on Redis `notifications`; the change feed behind sessions and keys
  'apps/api/test/jobs-flow.spec.ts',
  'apps/api/test/tasks.spec.ts',
  'apps/api/test/auth-tokens.spec.ts',
  // the worker's Redis publishes
  'apps/worker/test/compose.spec.ts',
  'apps/worker/test/leadership.spec.ts',
  'test/redis-cluster/ws-failover.spec.ts',
];

export default systemProject('redis-cluster', files, {
  globalSetup: [fileURLToPath(new URL('global-setup.ts', import.meta.url))],
  setupFiles: [fileURLToPath(new URL('setup.ts', import.meta.url))],
  // one cluster for the project: its files one at a time, in one worker (each file still isolated)
  pool: 'forks',
  poolOptions: { forks: { singleFork: true } },
});
