import { systemProject } from '../../vitest.shared.ts';

// The whole job pipeline on a three-node NATS cluster of the test's own (NATS_STREAM_REPLICAS=3):
// the api, two workers and the notifier as processes, a thousand jobs, the jobs stream's leader
// killed in the middle and started again; every job done exactly once (nats-cluster.spec.ts).
export default systemProject('nats-cluster', ['test/nats-cluster/*.spec.ts'], {
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
