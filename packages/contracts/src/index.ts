export * from './settings.schemas.ts';
export * from './problem.schemas.ts';
export * from './health.schemas.ts';
export * from './common.schemas.ts';
export * from './events.schemas.ts';
