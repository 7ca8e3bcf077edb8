/**
 * Source maps applied to JavaScript frames: minified file, line, column and name become
 * the original ones, with the original source lines as context when the map carries
 * `sourcesContent`. The map is found, for each frame, by
 *  1. the bundle's debug id (sentry-cli `sourcemaps inject`; the SDK reports it in
 *     `debug_meta.images` next to the file's path), else
 *  2. the event's release (and dist) and the frame's URL, as `~/path` (sentry-cli's
 *     url prefix): `https://shop.example/static/app.js` and `/srv/app/dist/app.js` both
 *     try `~/static/app.js`, `~/app.js`, … longest first.
 * Used by the worker before grouping (so issues group by original names), and again when
 * an event is viewed (maps uploaded after the event still apply). A mapped frame keeps
 * where the minified code was in `minified`.
 *
 * Function names: a minified frame's own name is mangled, and a source map has no scope
 * information; the original name is the one the *calling* frame's position maps to (the
 * identifier being called there), as Sentry's original JavaScript processor did. When
 * the caller is not mapped (a native callback such as Array.map), the name stays as sent.
 */
import { originalPositionFor, sourceContentFor, TraceMap } from '@jridgewell/trace-mapping';
import type { DataSource } from 'typeorm';
import type { BlobStore } from '../../storage/blobStore.ts';
import type { EventRecord } from '../events/record.ts';
import type { EventData, ExceptionData, StackFrame } from '../events/structured.ts';
import { stacktraceText } from '../ingest/formats/sentry/normalize.ts';
import { config } from '../../config.ts';
import { artifactStore } from '../../storage/index.ts';
import { readBlob } from './artifacts.ts';

const CONTEXT_LINES = 5;
const LINE_CHARS = 500;
/** How long "no map for this" is believed; a map uploaded later is picked up after this. */
const NEGATIVE_TTL_MS = 30_000;
const POSITIVE_TTL_MS = 5 * 60_000;

interface MapRef {
  key: string;
}

interface LoadedMap {
  map: TraceMap;
  bytes: number;
}

/** Bounded by total bytes of map text, least recently used out. */
class MapCache {
  private readonly entries = new Map<string, LoadedMap>();
  private bytes = 0;
  constructor(private readonly max: number) {}
  get(key: string): LoadedMap | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }
  set(key: string, value: LoadedMap): void {
    this.entries.set(key, value);
    this.bytes += value.bytes;
    while (this.bytes > this.max && this.entries.size > 1) {
      const [oldest, v] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.bytes -= v.bytes;
    }
  }
}

const isJsFrame = (f: StackFrame) =>
  typeof f.lineno === 'number' && typeof f.colno === 'number' && Boolean(f.abs_path || f.filename) && !f.minified;

/** `~/` URLs a frame's path may have been uploaded under, longest first. */
export function candidateUrls(path: string): string[] {
  let p = path.replace(/[?#].*$/, '');
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)$/i.exec(p);
  if (m) p = m[1];
  const segments = p.split('/').filter((s) => s && s !== '.');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) out.push(`~/${segments.slice(i).join('/')}`);
  return out;
}

/** Source paths as bundlers write them (webpack://app/./src/x.ts, ../src/x.ts) → a readable file name. */
export function cleanSource(source: string): string {
  return source
    .replace(/^webpack:\/\/[^/]*\//, '')
    .replace(/^[a-z][a-z0-9+.-]*:\/\/\/?/i, '')
    .replace(/^(\.\.?\/)+/, '')
    .replace(/\/\.\//g, '/');
}

export interface SymbolicatorOptions {
  cacheBytes: number;
}

export class Symbolicator {
  private readonly maps: MapCache;
  private readonly refs = new Map<string, { ref: MapRef | null; expires: number }>();

  constructor(
    private readonly ds: DataSource,
    private readonly store: BlobStore,
    opts: SymbolicatorOptions,
  ) {
    this.maps = new MapCache(opts.cacheBytes);
  }

  /** Forget every "no map for this" (a bundle was just assembled in this process). */
  forgetMisses(): void {
    for (const [k, v] of this.refs) if (!v.ref) this.refs.delete(k);
  }

  /** Does this event have frames a map could apply to? Cheap: the worker asks it of every event. */
  static wants(data: EventData | null | undefined): boolean {
    return Boolean(data?.exceptions?.some((x) => x.frames.some(isJsFrame)));
  }

  private async cachedRef(key: string, find: () => Promise<MapRef | null>): Promise<MapRef | null> {
    const now = Date.now();
    const hit = this.refs.get(key);
    if (hit && hit.expires > now) return hit.ref;
    const ref = await find();
    if (this.refs.size > 50_000) this.refs.clear();
    this.refs.set(key, { ref, expires: now + (ref ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS) });
    return ref;
  }

  private byDebugId(projectId: number, debugId: string) {
    return this.cachedRef(`d:${projectId}:${debugId}`, async () => {
      const rows: Array<{ blob_key: string }> = await this.ds.query(
        `SELECT blob_key FROM artifact_files WHERE project_id = $1 AND debug_id = $2::uuid AND kind = 'source_map' ORDER BY created_at DESC LIMIT 1`,
        [projectId, debugId],
      );
      return rows[0] ? { key: rows[0].blob_key } : null;
    });
  }

  private byRelease(projectId: number, release: string, dist: string | null, path: string) {
    return this.cachedRef(`r:${projectId}:${release}:${dist ?? ''}:${path}`, async () => {
      const urls = candidateUrls(path);
      if (!urls.length) return null;
      const rows: Array<{ bundle_id: string; url: string; kind: string; sourcemap: string | null; blob_key: string }> = await this.ds.query(
        `SELECT bundle_id, url, kind, sourcemap, blob_key FROM artifact_files
          WHERE project_id = $1 AND release = $2 AND dist IS NOT DISTINCT FROM $3 AND url = ANY($4::text[]) AND kind = 'minified_source'
          ORDER BY created_at DESC`,
        [projectId, release, dist, urls],
      );
      // Longest URL match first, then the newest upload.
      rows.sort((a, b) => urls.indexOf(a.url) - urls.indexOf(b.url));
      for (const r of rows) {
        const mapUrls = [
          r.sourcemap ? new URL(r.sourcemap, `http://x/${r.url.slice(2)}`).pathname.replace(/^\//, '~/') : null,
          `${r.url}.map`,
        ].filter(Boolean);
        const maps: Array<{ blob_key: string }> = await this.ds.query(
          `SELECT blob_key FROM artifact_files WHERE bundle_id = $1 AND kind = 'source_map' AND url = ANY($2::text[]) LIMIT 1`,
          [r.bundle_id, mapUrls],
        );
        if (maps[0]) return { key: maps[0].blob_key };
      }
      return null;
    });
  }

  private async load(ref: MapRef): Promise<TraceMap | null> {
    const hit = this.maps.get(ref.key);
    if (hit) return hit.map;
    try {
      const text = (await readBlob(this.store, ref.key)).toString('utf8');
      const map = new TraceMap(text);
      this.maps.set(ref.key, { map, bytes: text.length });
      return map;
    } catch {
      return null; // a broken map is no map: the frame stays minified
    }
  }

  /** The structured data with its frames mapped, or null when nothing could be mapped. */
  async symbolicate(projectId: number, release: string | null | undefined, data: EventData): Promise<EventData | null> {
    if (!Symbolicator.wants(data)) return null;
    const images = new Map(
      (data.debug_meta?.images ?? []).filter((i) => i.debug_id && i.code_file).map((i) => [i.code_file!, i.debug_id!.toLowerCase()]),
    );
    let changed = false;
    const exceptions: ExceptionData[] = [];
    for (const x of data.exceptions ?? []) {
      const positions = await Promise.all(
        x.frames.map(async (f) => {
          if (!isJsFrame(f)) return null;
          const path = f.abs_path || f.filename!;
          const debugId = f.debug_id ?? images.get(path) ?? (f.filename ? images.get(f.filename) : undefined);
          const ref =
            (debugId ? await this.byDebugId(projectId, debugId) : null) ??
            (release ? await this.byRelease(projectId, release, data.dist ?? null, path) : null);
          const map = ref ? await this.load(ref) : null;
          if (!map) return null;
          const pos = originalPositionFor(map, { line: f.lineno!, column: Math.max(0, f.colno! - 1) });
          return pos.source === null ? null : { map, pos, debugId };
        }),
      );
      const frames = x.frames.map((f, i) => {
        const p = positions[i];
        if (!p) return f;
        changed = true;
        const caller = positions[i - 1];
        const out: StackFrame = {
          filename: cleanSource(p.pos.source!),
          abs_path: p.pos.source!,
          lineno: p.pos.line!,
          colno: (p.pos.column ?? 0) + 1,
          function: caller?.pos.name ?? f.function,
          in_app: /(^|\/)node_modules\//.test(p.pos.source!) ? false : (f.in_app ?? true),
          minified: {
            abs_path: f.abs_path,
            filename: f.filename,
            module: f.module,
            function: f.function,
            lineno: f.lineno,
            colno: f.colno,
          },
        };
        if (f.vars) out.vars = f.vars;
        if (p.debugId) out.debug_id = p.debugId;
        const content = sourceContentFor(p.map, p.pos.source!);
        if (content !== null) {
          const lines = content.split(/\r?\n/);
          const at = p.pos.line! - 1;
          const clip = (l: string) => (l.length > LINE_CHARS ? l.slice(0, LINE_CHARS) : l);
          out.pre_context = lines.slice(Math.max(0, at - CONTEXT_LINES), at).map(clip);
          out.context_line = clip(lines[at] ?? '');
          out.post_context = lines.slice(at + 1, at + 1 + CONTEXT_LINES).map(clip);
        }
        for (const k of Object.keys(out) as Array<keyof StackFrame>) if (out[k] === undefined) delete out[k];
        return out;
      });
      exceptions.push({ ...x, frames });
    }
    return changed ? { ...data, exceptions } : null;
  }

  /** A record with its frames mapped (and its text stack trace redone), or the record as it was. */
  async symbolicateRecord(r: EventRecord): Promise<EventRecord> {
    const data = r.data as EventData | null | undefined;
    if (!data || !Symbolicator.wants(data)) return r;
    const mapped = await this.symbolicate(r.project_id, r.release, data);
    if (!mapped) return r;
    const typed = (mapped.exceptions ?? []).filter((x) => x.type);
    return { ...r, data: mapped as Record<string, unknown>, stacktrace: stacktraceText(typed) ?? r.stacktrace };
  }
}

const perSource = new WeakMap<DataSource, Symbolicator>();

/** One symbolicator (and map cache) per process and database, over the artifacts store. */
export function symbolicatorFor(ds: DataSource): Symbolicator {
  let s = perSource.get(ds);
  if (!s) perSource.set(ds, (s = new Symbolicator(ds, artifactStore(), { cacheBytes: config.artifacts.mapCacheBytes })));
  return s;
}

/** View time: frames still minified (their map came after the event) are mapped for display; nothing is stored. */
export async function withMapsApplied<
  T extends { project: number; release: string | null; data: Record<string, unknown>; stacktrace: string | null },
>(ds: DataSource, event: T): Promise<T & { mapped_at_view?: boolean }> {
  const data = event.data as EventData;
  if (!Symbolicator.wants(data)) return event;
  const mapped = await symbolicatorFor(ds).symbolicate(event.project, event.release, data);
  if (!mapped) return event;
  const typed = (mapped.exceptions ?? []).filter((x) => x.type);
  return { ...event, data: mapped as Record<string, unknown>, stacktrace: stacktraceText(typed) ?? event.stacktrace, mapped_at_view: true };
}
