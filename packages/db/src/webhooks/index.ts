export * from './webhook-secrets.repository.ts';
