import { LEVELS, type Level } from '../levels.ts';
import type { Filters } from './definitions.ts';

/** What a filter looks at, from any kind of event. */
export interface EventFacts {
  level: Level;
  environment: string | null;
  service: string | null;
  tags: Record<string, unknown>;
  message?: string;
  exception_type?: string | null;
  release?: string | null;
}

const rank = (l: Level) => LEVELS.indexOf(l);
const lower = (s: string | null | undefined) => (s ?? '').toLowerCase();

/** Every search word appears in the message or exception type (case-insensitive). */
function searchMatches(search: string, facts: EventFacts): boolean {
  const hay = `${lower(facts.message)}\n${lower(facts.exception_type)}`;
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

/** All of a rule's filters hold for these facts (a filter that is not set holds). */
export function filtersMatch(f: Filters, facts: EventFacts): boolean {
  if (f.environments && !f.environments.some((e) => e.toLowerCase() === lower(facts.environment))) return false;
  if (f.min_level && rank(facts.level) < rank(f.min_level)) return false;
  if (f.services && !f.services.some((s) => s.toLowerCase() === lower(facts.service))) return false;
  if (f.release) {
    // Sentry's release arrives as a tag today; a release column (triage) will win when it exists.
    const release = facts.release ?? (typeof facts.tags.release === 'string' ? facts.tags.release : null);
    if (release !== f.release) return false;
  }
  if (f.tags) {
    for (const pair of f.tags) {
      const at = pair.indexOf('=');
      const v = facts.tags[pair.slice(0, at)];
      if (v === undefined || v === null || String(v) !== pair.slice(at + 1)) return false;
    }
  }
  if (f.search && !searchMatches(f.search, facts)) return false;
  return true;
}

export function environmentMatches(f: Filters, environment: string | null): boolean {
  return !f.environments || f.environments.some((e) => e.toLowerCase() === lower(environment));
}
