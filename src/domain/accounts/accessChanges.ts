import { logger } from '../../logger.ts';

/**
 * "What these users (or anyone in these projects) may see has just changed": a password,
 * email or deactivation ended their sessions, a membership was removed or its role
 * changed, a project was deleted or transferred. Long-lived connections (the live tail's
 * WebSockets, on every web process) re-check their caller at once instead of at their
 * next periodic sweep.
 */
export interface AccessChange {
  users?: number[];
  projects?: number[];
}

/** Carries a change to whoever holds connections; the web process's live tail publishes it on Redis. */
export interface AccessNotifier {
  accessChanged(change: AccessChange): Promise<void>;
}

// The domain knows only this interface; the web process registers the Redis-backed one
// (src/live). Processes that hold no connections (worker, CLI) register none, and their
// changes reach web processes through the periodic sweep.
const notifiers = new Set<AccessNotifier>();

/** Answers the function that unregisters it (a closing live tail). */
export function registerAccessNotifier(n: AccessNotifier): () => void {
  notifiers.add(n);
  return () => void notifiers.delete(n);
}

/**
 * Called after the change committed (a re-check before the commit would still see the
 * old access). Never throws: the change is done; a lost notice only delays its effect on
 * open connections until the periodic sweep.
 */
export async function announceAccessChange(change: AccessChange): Promise<void> {
  if (!change.users?.length && !change.projects?.length) return;
  await Promise.all(
    [...notifiers].map((n) =>
      n
        .accessChanged(change)
        .catch((err: unknown) =>
          logger.warn({ err: (err as Error).message, change }, 'access change notice failed; the periodic re-check will apply it'),
        ),
    ),
  );
}
