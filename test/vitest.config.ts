import { defineProject, mergeConfig } from 'vitest/config';

import { project } from '../vitest.shared.ts';

// Repository-level tests: the compose stack's shape and the bootstrap behind `npm start` / `npm test`.
export default mergeConfig(
  project('repo'),
  defineProject({ test: { include: ['*.spec.ts', 'bootstrap/**/*.spec.ts'] } }),
);
