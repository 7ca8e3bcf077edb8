/**
 * Native crashes from Crashpad/Breakpad (POST /api/{id}/minidump/) and from Sentry
 * envelopes (`attachment` items of type event.minidump): the dump goes through the crash
 * dumps pipeline (src/domain/dumps) and an error event links to it, so the crash shows
 * up — and groups into issues — like any other error.
 */
import type { DataSource } from 'typeorm';
import type { DumpStores } from '../../../../storage/index.ts';
import { pagedReader } from '../../../dumps/bytes.ts';
import { recordDump, type StagedDump } from '../../../dumps/ingest.ts';
import { deleteDump } from '../../../dumps/manage.ts';
import { MinidumpError, parseMinidump, type MinidumpFacts } from '../../../dumps/minidump.ts';
import { badRequest } from '../../../errors.ts';
import type { EventRecord } from '../../../events/record.ts';
import type { WorkSink } from '../../../sinks.ts';
import { sentryEventToRecord } from './normalize.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

function setPath(target: Obj, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isObj(node[key])) node[key] = {};
    node = node[key] as Obj;
  }
  node[path.at(-1)!] = value;
}

/**
 * Crashpad's form: a `sentry` field holding event JSON and/or `sentry[tags][os]=…`
 * bracket fields set event fields; every other field (Crashpad annotations such as
 * prod, ver, guid) lands in the event's extra.
 */
export function eventFromForm(fields: ReadonlyMap<string, string>): Obj {
  let event: Obj = {};
  const raw = fields.get('sentry');
  if (raw) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isObj(parsed)) event = parsed;
    } catch {
      throw badRequest('The "sentry" form field is not JSON', null, 'invalid_event');
    }
  }
  const extra: Obj = isObj(event.extra) ? { ...event.extra } : {};
  for (const [name, value] of fields) {
    if (name === 'sentry') continue;
    const m = /^sentry((?:\[[^\]]*\])+)$/.exec(name);
    if (m)
      setPath(
        event,
        [...m[1].matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]),
        value,
      );
    else extra[name] = value;
  }
  if (Object.keys(extra).length) event.extra = extra;
  return event;
}

export const assertMinidump = (staged: StagedDump) => {
  if (staged.format !== 'minidump') {
    throw badRequest('Not a minidump: the file must start with MDMP (after gzip decompression)', null, 'invalid_minidump');
  }
};

async function factsOf(stores: DumpStores, staged: StagedDump): Promise<MinidumpFacts | null> {
  try {
    return await parseMinidump(pagedReader(stores, { id: staged.id, archived: false }), staged.size);
  } catch (err) {
    if (err instanceof MinidumpError || err instanceof RangeError) return null; // the worker records the parse error
    throw err;
  }
}

/**
 * The error event for a native crash. The minidump's own facts (exception, main module,
 * OS) make the title and the default grouping; the client's event fields win.
 */
export async function minidumpEvent(
  stores: DumpStores,
  staged: StagedDump,
  clientEvent: Obj,
  projectId: number,
  receivedAt: string,
): Promise<EventRecord> {
  const facts = await factsOf(stores, staged);
  const type = facts?.exception_name ?? facts?.exception_code ?? 'Minidump';
  const base: Obj = {
    level: 'fatal',
    platform: 'native',
    exception: {
      values: [
        {
          type,
          value: `${facts?.crash_reason ?? 'Native crash'}${facts?.crash_address ? ` at ${facts.crash_address}` : ''}`,
          mechanism: { type: 'minidump', handled: false },
        },
      ],
    },
    fingerprint: ['minidump', type, facts?.main_module ?? '', facts?.os ?? ''],
  };
  const event = {
    ...base,
    ...clientEvent,
    extra: { ...(isObj(clientEvent.extra) ? clientEvent.extra : {}), minidump: { dump_id: staged.id, ...(facts ?? {}) } },
  };
  const { record } = sentryEventToRecord(event, projectId, receivedAt);
  return { ...record, event_type: 'minidump' };
}

export interface MinidumpDeps {
  ds: DataSource;
  stores: DumpStores;
  sink: WorkSink;
}

export interface StagedMinidump {
  staged: StagedDump;
  originalName: string;
  /** The event it belongs to. */
  eventId: string;
}

/**
 * Records staged dumps (each labelled with its event id, so /api/dumps/by-label/<id>/
 * finds it) and queues the events. All or nothing: if the events cannot be queued, the
 * dumps are removed and the caller answers 503.
 */
export async function storeWithDumps(
  deps: MinidumpDeps,
  records: EventRecord[],
  dumps: StagedMinidump[],
  projectId: number,
  keyId: number,
): Promise<void> {
  const rows = [];
  try {
    for (const d of dumps) {
      rows.push(
        await recordDump(deps.ds, d.staged, {
          projectId,
          originalName: d.originalName,
          label: d.eventId,
          contentType: 'application/x-minidump',
          uploader: { kind: 'api_key', keyId },
        }),
      );
    }
    await deps.sink.enqueueEvents(
      records,
      records.reduce((n, r) => n + r.message.length + (r.stacktrace?.length ?? 0) + 1024, 0),
    );
  } catch (err) {
    for (const d of dumps) await d.staged.discard();
    for (const row of rows) await deleteDump(deps.ds, deps.stores, row.id).catch(() => undefined);
    throw err;
  }
  for (const row of rows) await deps.sink.processDump(row);
}

/** Links a dump to an event the client sent alongside it (envelope attachments). */
export function linkDump(record: EventRecord, dumpId: string): EventRecord {
  const previous = isObj(record.extra.minidump) ? record.extra.minidump : {};
  return { ...record, extra: { ...record.extra, minidump: { ...previous, dump_id: dumpId } } };
}

/** Sentry answers Crashpad with the event id as a dashed UUID. */
export const dashedUuid = (hex32: string) =>
  /^[0-9a-f]{32}$/.test(hex32)
    ? `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`
    : hex32;
