import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { PantiesEventSchema, pantiesToRecord } from '../../src/domain/ingest/formats/panties.ts';
import { DataideaLlmLogSchema, dataideaLlmToRecord } from '../../src/domain/ingest/formats/dataidea.ts';
import { logger } from '../../src/logger.ts';
import { storeEventsProcessor } from '../../src/workers/storeEvents.ts';
import { storeLlmLogsProcessor } from '../../src/workers/storeLlmLogs.ts';
import { pantiesEvent } from './factories.ts';
import { storeLogs } from './logs.ts';

const job = (items: unknown[]) => ({ id: 'admin-test', data: { items } }) as unknown as Job;

/** Error events through the worker's processor (grouped into issues as in production), timestamped within the last hours. */
export async function storeErrors(ds: DataSource, projectId: number, events: Array<Record<string, unknown>>): Promise<void> {
  const now = Date.now();
  const items = events.map((e, i) =>
    pantiesToRecord(
      PantiesEventSchema.parse(pantiesEvent({ timestamp: (now - i * 1800_000) / 1000, ...e })),
      projectId,
      new Date().toISOString(),
    ),
  );
  await storeEventsProcessor(ds, logger)(job(items));
}

export async function storeLlmCalls(ds: DataSource, projectId: number, calls: Array<Record<string, unknown>>): Promise<void> {
  const items = calls.map((c) =>
    dataideaLlmToRecord(
      DataideaLlmLogSchema.parse({ query: 'What is a fault line?', response: 'A fracture.', ...c }),
      projectId,
      new Date().toISOString(),
    ),
  );
  await storeLlmLogsProcessor(ds, logger)(job(items));
}

/** A project's worth of data for the admin to show: errors, logs of every severity, LLM calls. */
export async function seedProject(ds: DataSource, projectId: number, tag: string): Promise<void> {
  await storeErrors(ds, projectId, [
    { message: `${tag} boom`, exception_type: 'ValueError', level: 'error', tags: { severity: 'high', tag } },
    { message: `${tag} meltdown`, exception_type: 'SystemError', level: 'critical' },
    { message: `${tag} slow`, exception_type: 'Timeout', level: 'warning' },
  ]);
  const ts = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
  await storeLogs(ds, projectId, [
    { message: `${tag} login ok`, severity: 'INFO', timestamp: ts(1) },
    { message: `${tag} disk almost full`, severity: 'WARNING', source: 'db-1', timestamp: ts(26) },
    { message: `${tag} payment failed`, severity: 'ERROR', source: 'billing', timestamp: ts(50) },
  ]);
  await storeLlmCalls(ds, projectId, [
    { source: 'chat', metadata: { model: 'gpt-4o', total_tokens: 120, latency_ms: 300 } },
    { source: 'chat', metadata: { model: 'claude-sonnet', total_tokens: 80, latency_ms: 200 } },
  ]);
}
