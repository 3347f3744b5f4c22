import { defineConfig } from 'vitest/config';

// `npm test` runs every package's suite in one vitest run (one summary at the end).
export default defineConfig({
  test: {
    projects: ['apps/*', 'packages/*', 'test'],
  },
});
