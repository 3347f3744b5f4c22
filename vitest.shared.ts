import { fileURLToPath } from 'node:url';

import { defineProject } from 'vitest/config';

/** Settings every package's vitest project shares: real services, so generous timeouts. */
export function project(name: string) {
  return defineProject({
    test: {
      name,
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', '*.spec.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      restoreMocks: true,
    },
  });
}

const REPO_ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * A whole-system project under test/<name>/ (clusters, rolling restarts): its files, given from the
 * repository's root, may live anywhere in the tree. The shared settings are spread, not merged (a
 * merge would add their include patterns, which from the root take in every file), and `dir` says
 * where the patterns are looked for, in the root run (`npm test`) as in a run from its directory.
 * `test` adds to or overrides the shared settings; give its file paths absolute.
 */
export function systemProject(name: string, include: string[], test: Record<string, unknown> = {}) {
  return defineProject({
    root: REPO_ROOT,
    test: {
      ...project(name).test,
      dir: REPO_ROOT,
      include,
      ...test,
    },
  });
}
