import { config } from '../config.ts';
import type { AccessChange, AccessNotifier } from '../domain/accounts/accessChanges.ts';
import type { EventRecord } from '../domain/events/record.ts';
import type { InsertedEvent } from '../domain/events/store.ts';
import { serializeLog, type LogOut } from '../domain/logs/query.ts';
import type { Logger } from '../logger.ts';

/**
 * The live tail's Redis pub/sub channel. Workers publish each batch of logs they have
 * just committed; every web process subscribes and fans out to its WebSocket clients,
 * so any number of web and worker processes can run. Under the queue prefix, so
 * deployments (and test files) sharing a Redis do not hear each other.
 */
export const liveLogsChannel = (prefix = config.queuePrefix): string => `${prefix}:live:logs`;

/**
 * Access changes (src/domain/accounts/accessChanges.ts): every web process's live tail
 * re-checks the sockets of these users, or watching these projects, as soon as it hears.
 */
export const liveAccessChannel = (prefix = config.queuePrefix): string => `${prefix}:live:access`;

/** What goes over the channel: the logs dashboard shaped logs (each carries its project id). */
export interface LiveLogBatch {
  logs: LogOut[];
}

export interface Publisher {
  publish(channel: string, message: string): Promise<unknown>;
}

/**
 * Publishes the logs among `inserted` — only rows that were new, so a re-delivered job
 * announces nothing twice. Called after the insert committed. The rows are already
 * stored: a failed publish is logged, never a reason to fail (and re-run) the job.
 */
export async function publishStoredLogs(redis: Publisher, records: EventRecord[], inserted: InsertedEvent[], log: Logger): Promise<void> {
  if (!inserted.length) return;
  const byKey = new Map(records.map((r) => [`${r.project_id}:${r.event_id}`, r]));
  const logs: LogOut[] = [];
  for (const row of inserted) {
    const r = byKey.get(`${row.project_id}:${row.event_id}`);
    if (!r || r.kind !== 'log') continue;
    logs.push(
      serializeLog({
        id: row.id,
        project_id: r.project_id,
        timestamp: new Date(r.timestamp),
        received_at: new Date(r.received_at),
        updated_at: row.updated_at,
        level: r.level,
        message: r.message,
        service: r.service,
        environment: r.environment,
        archived: false,
      }),
    );
  }
  if (!logs.length) return;
  try {
    await redis.publish(liveLogsChannel(), JSON.stringify({ logs } satisfies LiveLogBatch));
  } catch (err) {
    log.warn({ err: (err as Error).message, logs: logs.length }, 'live tail publish failed');
  }
}

/** Publishes access changes for every web process's live tail; the domain calls it through AccessNotifier. */
export function redisAccessNotifier(redis: Publisher, channel = liveAccessChannel()): AccessNotifier {
  return {
    async accessChanged(change: AccessChange) {
      await redis.publish(
        channel,
        JSON.stringify({ users: change.users ?? [], projects: change.projects ?? [] } satisfies Required<AccessChange>),
      );
    },
  };
}
