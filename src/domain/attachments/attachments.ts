/**
 * Sentry attachments (`scope.addAttachment`, `attachment` envelope items that are not
 * minidumps — those go through the crash dumps pipeline) kept with their event: bytes in
 * the artifacts store, a row per attachment, both written before the envelope is
 * answered. Ids are derived from (project, event, name, content), so a client retry of
 * the same envelope stores nothing twice.
 *
 * Each attachment is at most `maxBytes`, and a project keeps at most `quotaBytes` of
 * them; one past either is not stored — the event is, and says so in
 * `data.attachments_dropped` — as Sentry drops attachments over its limits.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import { registry } from '../../metrics.ts';
import type { BlobStore } from '../../storage/blobStore.ts';
import { notFound } from '../errors.ts';
import { cleanText } from '../events/record.ts';
import { recordOutcome } from '../outcomes/recorder.ts';

export const attachmentsCounter = new Counter({
  name: 'faultline_attachments_total',
  help: 'Sentry event attachments, by outcome (stored, too_large, over_quota)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
export const attachmentBytes = new Counter({
  name: 'faultline_attachment_bytes_total',
  help: 'Bytes of Sentry event attachments stored',
  registers: [registry],
});

export interface AttachmentItem {
  filename?: string;
  contentType?: string;
  attachmentType?: string;
  payload: Buffer;
}

export interface AttachmentLimits {
  maxBytes: number;
  quotaBytes: number;
}

export interface Dropped {
  name: string;
  size: number;
  reason: 'too_large' | 'over_quota';
}

const keyOf = (id: string) => `attachments/${id.slice(0, 2)}/${id}`;

function idOf(projectId: number, eventId: string, name: string, sha256: string): string {
  const h = createHash('sha256').update(`${projectId}\0${eventId}\0${name}\0${sha256}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Stores an event's attachments (durably, before the caller answers); answers the ones it had to drop. */
export async function storeAttachments(
  ds: DataSource,
  store: BlobStore,
  projectId: number,
  eventId: string,
  items: AttachmentItem[],
  limits: AttachmentLimits,
): Promise<Dropped[]> {
  if (!items.length) return [];
  const [{ used }]: Array<{ used: string }> = await ds.query(
    `SELECT coalesce(sum(size), 0) AS used FROM event_attachments WHERE project_id = $1`,
    [projectId],
  );
  let budget = limits.quotaBytes - Number(used);
  const dropped: Dropped[] = [];
  for (const item of items) {
    const name = cleanText(item.filename?.trim() || 'attachment').slice(0, 1024);
    const size = item.payload.length;
    if (size > limits.maxBytes) {
      dropped.push({ name, size, reason: 'too_large' });
      attachmentsCounter.inc({ outcome: 'too_large' });
      continue;
    }
    if (size > budget) {
      dropped.push({ name, size, reason: 'over_quota' });
      attachmentsCounter.inc({ outcome: 'over_quota' });
      continue;
    }
    const sha256 = createHash('sha256').update(item.payload).digest('hex');
    const id = idOf(projectId, eventId, name, sha256);
    const exists: unknown[] = await ds.query(`SELECT 1 FROM event_attachments WHERE id = $1`, [id]);
    if (exists.length) continue; // a retried envelope
    await store.put(keyOf(id), Readable.from([item.payload]));
    await ds.query(
      `INSERT INTO event_attachments (id, project_id, event_id, name, content_type, attachment_type, size, sha256, blob_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
      [
        id,
        projectId,
        eventId,
        name,
        (item.contentType || 'application/octet-stream').slice(0, 255),
        (item.attachmentType || 'event.attachment').slice(0, 64),
        size,
        sha256,
        keyOf(id),
      ],
    );
    budget -= size;
    attachmentsCounter.inc({ outcome: 'stored' });
    attachmentBytes.inc(size);
  }
  return dropped;
}

export interface AttachmentRow {
  id: string;
  event_id: string;
  name: string;
  content_type: string;
  attachment_type: string;
  size: number;
  sha256: string;
  created_at: string;
}

export async function listAttachments(ds: DataSource, projectId: number, eventId: string): Promise<AttachmentRow[]> {
  const rows: Array<Omit<AttachmentRow, 'size' | 'created_at'> & { size: string; created_at: Date }> = await ds.query(
    `SELECT id, event_id, name, content_type, attachment_type, size, sha256, created_at FROM event_attachments WHERE project_id = $1 AND event_id = $2 ORDER BY created_at, name`,
    [projectId, eventId],
  );
  return rows.map((r) => ({ ...r, size: Number(r.size), created_at: r.created_at.toISOString() }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One attachment's row and bytes; 404 when it is not this project's event's. */
export async function openAttachment(ds: DataSource, store: BlobStore, projectId: number, eventId: string, id: string) {
  const rows: Array<{ name: string; content_type: string; size: string; sha256: string; blob_key: string }> = UUID.test(id)
    ? await ds.query(
        `SELECT name, content_type, size, sha256, blob_key FROM event_attachments WHERE id = $1 AND project_id = $2 AND event_id = $3`,
        [id, projectId, eventId],
      )
    : [];
  if (!rows[0]) throw notFound('Attachment not found');
  return { ...rows[0], size: Number(rows[0].size), stream: await store.get(rows[0].blob_key) };
}

/**
 * The envelope's side: attachments go with the envelope's event (its id, else the
 * envelope header's); what had to be dropped is noted on that event's record.
 */
export class EnvelopeAttachments {
  constructor(
    private readonly ds: DataSource,
    private readonly store: BlobStore,
    private readonly limits: AttachmentLimits,
  ) {}

  async keep<R extends { event_id: string; data?: Record<string, unknown> | null }>(
    projectId: number,
    records: R[],
    eventId: string | null,
    headerEventId: unknown,
    items: AttachmentItem[],
  ): Promise<R[]> {
    const target = eventId ?? (typeof headerEventId === 'string' ? headerEventId.replaceAll('-', '').toLowerCase().slice(0, 100) : null);
    if (!items.length) return records;
    if (!target) {
      // No event to keep them with: counted, not silently gone.
      recordOutcome({ projectId, category: 'attachment', outcome: 'invalid', reason: 'no_event', quantity: items.length });
      return records;
    }
    const dropped = await storeAttachments(this.ds, this.store, projectId, target, items, this.limits);
    if (!dropped.length) return records;
    for (const d of dropped) {
      recordOutcome({
        projectId,
        category: 'attachment',
        outcome: d.reason === 'over_quota' ? 'rate_limited' : 'invalid',
        reason: d.reason === 'over_quota' ? 'attachment_quota' : 'too_large',
      });
    }
    return records.map((r) => (r.event_id === target ? { ...r, data: { ...(r.data ?? {}), attachments_dropped: dropped } } : r));
  }
}
