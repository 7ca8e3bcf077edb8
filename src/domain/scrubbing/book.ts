import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import { RuleBook } from './records.ts';

/** The workers' rule book, per DataSource (one cache per worker process); null when SCRUBBING_ENABLED=false. */
const books = new WeakMap<DataSource, RuleBook>();
export function defaultRuleBook(ds: DataSource): RuleBook | null {
  if (!config.scrubbing.enabled) return null;
  let book = books.get(ds);
  if (!book) books.set(ds, (book = new RuleBook(ds, config.scrubbing.hashSecret, config.scrubbing.rulesCacheMs)));
  return book;
}
