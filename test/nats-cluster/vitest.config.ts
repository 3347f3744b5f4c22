import { fileURLToPath } from 'node:url';

import { defineProject } from 'vitest/config';

import { project } from '../../vitest.shared.ts';

// The whole job pipeline on a three-node NATS cluster of the test's own (NATS_STREAM_REPLICAS=3):
// the api, two workers and the notifier as processes, a thousand jobs, the jobs stream's leader
// killed in the middle and started again; every job done exactly once (nats-cluster.spec.ts).
// The shared settings are spread, not merged: a merge would add their include patterns, which
// from the repository's root take in every file under test/.
const shared = project('nats-cluster').test;

export default defineProject({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...shared,
    // where the include patterns are looked for: without it the root run (vitest.config.ts at the
    // repository's root) found no file of this project at all
    dir: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/nats-cluster/*.spec.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
