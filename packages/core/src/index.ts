export * from './settings.ts';
export * from './logger.ts';
export * from './errors.ts';
export * from './shutdown.ts';
export * from './connections.ts';
export * from './health-server.ts';
export * from './decimal.ts';
export * from './messages.ts';
