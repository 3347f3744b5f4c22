import { defineConfig } from 'vitest/config';

// `npm test` runs every package's suite in one vitest run (one summary at the end).
export default defineConfig({
  test: {
    // test/redis-cluster: the Redis-facing tests again, on a Redis Cluster of the run's own
    // test/rolling-restart: three api processes behind nginx restarted one by one under live sessions
    // test/nats-cluster: the job pipeline on a three-node NATS cluster losing the jobs stream's leader
    projects: ['apps/*', 'packages/*', 'test', 'test/redis-cluster', 'test/rolling-restart', 'test/nats-cluster'],
  },
});
