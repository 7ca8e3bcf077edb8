import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { userLogToRecord, UserLogSchema } from '../../src/domain/ingest/formats/logs.ts';
import type { MemberRole } from '../../src/entities/ProjectMember.ts';
import { logger } from '../../src/logger.ts';
import { storeEventsProcessor } from '../../src/workers/storeEvents.ts';

/** A seed 2 log body, as its dashboard posts it. */
export function seed2Log(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { message: 'User login successful', severity: 'INFO', source: 'auth_service', timestamp: '2024-01-01T12:00:00Z', ...overrides };
}

/** Stores logs straight through the worker's processor (the queue path is covered in logs-ingest). */
export async function storeLogs(ds: DataSource, projectId: number, logs: Array<Record<string, unknown>>): Promise<void> {
  const receivedAt = new Date().toISOString();
  const items = logs.map((l) => userLogToRecord(UserLogSchema.parse(seed2Log(l)), projectId, receivedAt));
  await storeEventsProcessor(ds, logger)({ id: 'test', data: { items } } as unknown as Job);
}

export async function addMember(ds: DataSource, projectId: number, userId: number, role: MemberRole): Promise<void> {
  await ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)`, [projectId, userId, role]);
}

export const countLogs = async (ds: DataSource, projectId: number): Promise<number> =>
  (await ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND kind = 'log'`, [projectId]))[0].n;

export const countLlmLogs = async (ds: DataSource, projectId: number): Promise<number> =>
  (await ds.query(`SELECT count(*)::int AS n FROM llm_logs WHERE project_id = $1`, [projectId]))[0].n;
