export * from './cbr.repository.ts';
export * from './binance.repository.ts';
export * from './feed-status.repository.ts';
export * from './tasks.repository.ts';
export * from './leader-connection.ts';
