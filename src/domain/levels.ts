import { LEVELS, type Level } from '../entities/values.ts';

export { LEVELS, type Level };

/** Every spelling the seeds' clients and common loggers use, mapped onto our five levels. */
const ALIASES: Record<string, Level> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  information: 'info',
  notice: 'info',
  log: 'info',
  warn: 'warning',
  warning: 'warning',
  err: 'error',
  error: 'error',
  crit: 'critical',
  critical: 'critical',
  fatal: 'critical',
  alert: 'critical',
  emerg: 'critical',
  emergency: 'critical',
};

export const LEVEL_NAMES = Object.keys(ALIASES);

/** Case-insensitive; undefined when the name is not a level. */
export function normalizeLevel(name: string): Level | undefined {
  return ALIASES[name.trim().toLowerCase()];
}
