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
