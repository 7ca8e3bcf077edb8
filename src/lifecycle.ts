import { logger } from './logger.ts';

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
