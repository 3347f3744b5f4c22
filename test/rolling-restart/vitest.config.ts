import { fileURLToPath } from 'node:url';

import { defineProject } from 'vitest/config';

import { project } from '../../vitest.shared.ts';

// A rolling restart of three api processes behind the local mode's nginx, with a thousand live
// sockets and steady reads: no frame lost or repeated, no failed request (rolling-restart.spec.ts).
// The shared settings are spread, not merged: a merge would add their include patterns, which
// from the repository's root take in every file under test/.
const shared = project('rolling-restart').test;

export default defineProject({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...shared,
    // where the include patterns are looked for: without it the root run (vitest.config.ts at the
    // repository's root) found no file of this project at all
    dir: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/rolling-restart/*.spec.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
