export * from './pool.ts';
export * from './schema.ts';
export * from './migrate.ts';
export * from './rates/index.ts';
export * from './webhooks/index.ts';
