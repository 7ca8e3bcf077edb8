import { pino } from 'pino';
import { config } from './config.ts';

/** Structured JSON logs (one line per record) for every process. */
export const logger = pino({
  level: config.logLevel,
  base: { pid: process.pid, service: 'faultline' },
  redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.api_key'], remove: true },
});

export type Logger = typeof logger;
