export * from './settings.schemas.ts';
export * from './problem.schemas.ts';
export * from './health.schemas.ts';
