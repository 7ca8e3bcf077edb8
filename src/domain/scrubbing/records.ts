/**
 * Scrubbing each stored kind, once, where the worker turns an item into a row: which
 * fields of an event, an LLM call, a span and a dump go through the scrubber (scrubber.ts),
 * and the marks each row keeps in its `scrubbed` column. Grouping is computed before this
 * runs (src/workers/storeEvents.ts), so nothing here can move an event to another issue.
 */
import type { DataSource } from 'typeorm';
import type { EventRecord } from '../events/record.ts';
import type { IssueLink } from '../events/store.ts';
import type { LlmLogRecord } from '../logs/llmRecord.ts';
import type { SpanRecord } from '../spans/record.ts';
import type { Mark, ProjectRule, RuleAction, RuleKind } from './rules.ts';
import { Marks, Scrubber } from './scrubber.ts';

/** A stored item's marks ride along with it (jobs re-run after a failure keep them). */
export type Scrubbed<T> = T & { scrubbed?: Mark[] | null };

export function scrubEvent(s: Scrubber, r: EventRecord): Scrubbed<EventRecord> {
  const m = new Marks((r as Scrubbed<EventRecord>).scrubbed);
  const out: Scrubbed<EventRecord> = {
    ...r,
    message: s.text(r.message, 'message', m),
    stacktrace: r.stacktrace === null ? null : s.text(r.stacktrace, 'stacktrace', m),
    user_ref: r.user_ref === null ? null : s.text(r.user_ref, 'user_ref', m),
    tags: s.value(r.tags, 'tags', m) ?? {},
    extra: s.value(r.extra, 'extra', m) ?? {},
    data: r.data ? s.value(r.data, 'data', m) : r.data,
  };
  out.scrubbed = m.value;
  return out;
}

/** An issue's title and culprit come from its latest event's text: scrubbed the same way (grouping already decided). */
export function scrubLink(s: Scrubber, link: IssueLink | null): IssueLink | null {
  if (!link) return link;
  const m = new Marks();
  return { ...link, title: s.text(link.title, 'title', m), culprit: link.culprit === null ? null : s.text(link.culprit, 'culprit', m) };
}

export function scrubLlmLog(s: Scrubber, r: LlmLogRecord): Scrubbed<LlmLogRecord> {
  const m = new Marks((r as Scrubbed<LlmLogRecord>).scrubbed);
  const out: Scrubbed<LlmLogRecord> = {
    ...r,
    query: s.text(r.query, 'query', m),
    response: s.text(r.response, 'response', m),
    user_ref: r.user_ref === null ? null : s.text(r.user_ref, 'user_ref', m),
    metadata: s.value(r.metadata, 'metadata', m) ?? {},
    error: r.error ? s.text(r.error, 'error', m) : r.error,
  };
  out.scrubbed = m.value;
  return out;
}

export function scrubSpan(s: Scrubber, r: SpanRecord): Scrubbed<SpanRecord> {
  const m = new Marks((r as Scrubbed<SpanRecord>).scrubbed);
  const out: Scrubbed<SpanRecord> = {
    ...r,
    name: s.text(r.name, 'name', m),
    status_message: r.status_message === null ? null : s.text(r.status_message, 'status_message', m),
    attributes: s.value(r.attributes, 'attributes', m) ?? {},
    resource: s.value(r.resource, 'resource', m) ?? {},
    events: s.value(r.events, 'events', m) ?? [],
    links: s.value(r.links, 'links', m) ?? [],
  };
  out.scrubbed = m.value;
  return out;
}

/** A dump's label and the facts read from it (command lines, environment, module paths). */
export function scrubDump(s: Scrubber, d: { label: string | null; info: Record<string, unknown> }) {
  const m = new Marks();
  return { label: d.label === null ? null : s.text(d.label, 'label', m), info: s.value(d.info, 'info', m) ?? {}, scrubbed: m.value };
}

interface RuleRow {
  id: number;
  project_id: number;
  kind: RuleKind;
  pattern: string | null;
  action: RuleAction | null;
}

/**
 * Each project's scrubber, built from its enabled rules and cached for `ttlMs` in the
 * worker: a rule changed through the API applies to items stored after the cache turns
 * over. One query per batch for the projects not cached.
 */
export class RuleBook {
  private readonly cache = new Map<number, { at: number; scrubber: Scrubber }>();

  constructor(
    private readonly ds: DataSource,
    private readonly hashKey: string,
    private readonly ttlMs = 5000,
  ) {}

  static build(rules: readonly ProjectRule[], hashKey: string): Scrubber {
    return new Scrubber(rules, hashKey);
  }

  async scrubbers(projectIds: Iterable<number>): Promise<Map<number, Scrubber>> {
    const now = Date.now();
    const out = new Map<number, Scrubber>();
    const missing: number[] = [];
    for (const id of new Set(projectIds)) {
      const hit = this.cache.get(id);
      if (hit && now - hit.at <= this.ttlMs) out.set(id, hit.scrubber);
      else missing.push(id);
    }
    if (missing.length) {
      const rows: RuleRow[] = await this.ds.query(
        `SELECT id, project_id, kind, pattern, action FROM scrubbing_rules WHERE enabled AND project_id = ANY($1::int[]) ORDER BY id`,
        [missing],
      );
      if (this.cache.size > 10_000) this.cache.clear();
      for (const id of missing) {
        const scrubber = new Scrubber(
          rows.filter((r) => r.project_id === id),
          this.hashKey,
        );
        this.cache.set(id, { at: now, scrubber });
        out.set(id, scrubber);
      }
    }
    return out;
  }

  clear(): void {
    this.cache.clear();
  }
}

/** Scrubs a batch with each item's project's scrubber. */
export async function scrubAll<T extends { project_id: number }>(
  book: RuleBook,
  items: T[],
  one: (s: Scrubber, item: T) => T,
): Promise<T[]> {
  const scrubbers = await book.scrubbers(items.map((i) => i.project_id));
  return items.map((i) => one(scrubbers.get(i.project_id)!, i));
}
