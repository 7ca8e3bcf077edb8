import { logger } from './logger.ts';
import { unhandledRejections } from './metrics.ts';

/**
 * Ordered shutdown for a process: SIGTERM/SIGINT run the steps in the order they were
 * registered (stop HTTP, close workers, flush, close Redis, close the database), with a
 * force-exit timer in case one of them hangs.
 */
export function handleShutdown(steps: Array<[string, () => Promise<unknown>]>, timeoutMs: number): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    let code = 0;
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        code = 1;
        logger.error({ err, step: name }, 'shutdown step failed');
      }
    }
    logger.info('stopped');
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * A promise rejection nothing handled is a bug on one request's path (a query whose
 * failure nobody awaited), not a reason to drop every other request in flight: it is
 * logged and counted, and the process keeps serving. An uncaught *exception* leaves
 * state unknown: logged, then the process exits for its supervisor to restart it.
 */
export function guardProcess(): void {
  process.on('unhandledRejection', (reason) => {
    unhandledRejections.inc();
    logger.error({ err: reason }, 'unhandled promise rejection (a bug: please report it)');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
}
