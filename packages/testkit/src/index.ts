export * from './database.ts';
export * from './services.ts';
export * from './wait.ts';
export * from './process.ts';
export * from './lifecycle.ts';
export * from './replay/index.ts';
