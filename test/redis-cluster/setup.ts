// In each test file of the redis-cluster project, before it loads: REDIS_URL names the project's
// cluster (serviceUrls() and every harness read it from there), and the cluster is emptied, as a
// file's own private Redis would be. The variable is this worker's; other projects never see it.
import { inject } from 'vitest';

import { Cluster, createLogger, createRedis } from '../../packages/runtime/src/index.ts';

const url = inject('redisClusterUrl');
process.env.REDIS_URL = url;

const cluster = createRedis(url, createLogger('redis-cluster-setup', 'silent'), 'test-setup');
try {
  if (!(cluster instanceof Cluster)) throw new Error(`not a Redis Cluster URL: ${url}`);
  await cluster.ping();
  await Promise.all(cluster.nodes('master').map((node) => node.flushall()));
} finally {
  cluster.disconnect();
}
