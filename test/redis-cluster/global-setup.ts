// Starts the project's one Redis Cluster and hands its URL to every test file (setup.ts).
import type { TestProject } from 'vitest/node';

import { startPrivateRedisCluster } from '../../packages/testkit/src/private-servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisClusterUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const cluster = await startPrivateRedisCluster();
  console.log(`[measure] redis cluster of 6 nodes ready in ${Math.round(performance.now() - started)} ms`);
  project.provide('redisClusterUrl', cluster.url);
  return () => cluster.close();
}
