export * from './limits.ts';
export * from './quotas.ts';
export * from './sentry.ts';
export * from './disk.ts';
export * from './storage.ts';
