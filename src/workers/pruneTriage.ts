import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { pruneTriage } from '../domain/housekeeping/triage.ts';
import { pruneOutcomes } from '../domain/outcomes/retention.ts';
import { config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';
import type { BlobStore } from '../storage/blobStore.ts';

/** `prune-triage` (repeatable, TRIAGE_PRUNE_SCHEDULE): old session marks, hourly counters, unassembled chunks, old outcome rows. Idempotent. */
export function pruneTriageProcessor(ds: DataSource, artifacts: BlobStore, log: Logger) {
  return async (job: Job) => {
    const parsed = JOBS['prune-triage'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid prune-triage payload: ${parsed.error.message.slice(0, 500)}`);
    const p = parsed.data;
    const triage = await pruneTriage(ds, artifacts, {
      sessionMarkMaxAgeMs: p.session_mark_max_age_ms,
      hourlyMaxAgeMs: p.hourly_max_age_ms,
      chunkMaxAgeMs: p.chunk_max_age_ms,
    });
    // What was dropped and why is kept OUTCOMES_RETENTION_DAYS (src/domain/outcomes).
    const result = { ...triage, outcomes: await pruneOutcomes(ds, config.outcomes.retentionDays) };
    if (result.marks || result.hourly || result.chunks || result.outcomes) log.info({ jobId: job.id, ...result }, 'triage housekeeping');
    return result;
  };
}
