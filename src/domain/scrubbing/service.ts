/**
 * A project's scrubbing rules, managed by its admins and owner (API and admin): read by
 * anyone who sees the project, changed with `edit_project`. Every rule is checked the way
 * the worker will compile it, so nothing accepted can fail a batch later. The worker
 * picks changes up within SCRUBBING_RULES_CACHE_MS (records.ts).
 */
import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import type { Actor } from '../access/access.ts';
import type { Access } from '../access/index.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { Mark, ProjectRule, RuleAction, RuleKind } from './rules.ts';
import { checkRegex, Marks, Scrubber } from './scrubber.ts';

export const MAX_RULES_PER_PROJECT = 100;

export interface RuleInput {
  kind: RuleKind;
  pattern?: string | null;
  action?: RuleAction | null;
  description?: string;
  enabled?: boolean;
}

interface Row {
  id: number;
  project_id: number;
  kind: RuleKind;
  pattern: string | null;
  action: RuleAction | null;
  description: string;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT id, project_id, kind, pattern, action, description, enabled, created_at, updated_at FROM scrubbing_rules`;

export function serializeScrubbingRule(r: Row) {
  return {
    id: r.id,
    project: r.project_id,
    kind: r.kind,
    pattern: r.pattern,
    action: r.action,
    description: r.description,
    enabled: r.enabled,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}
export type ScrubbingRuleOut = ReturnType<typeof serializeScrubbingRule>;

/** The cross-field rules of a rule; throws a 400 naming the field. */
export function checkRule(r: { kind: RuleKind; pattern: string | null; action: RuleAction | null }): void {
  if (r.kind === 'exempt') {
    if (r.action !== null) throw badRequest('An exempt rule takes no action', { action: ['must be null for kind exempt'] });
  } else if (r.action === null) throw badRequest('This rule needs an action', { action: ['one of mask, hash, remove'] });
  if ((r.kind === 'regex' || r.kind === 'key' || r.kind === 'exempt') && !r.pattern)
    throw badRequest(`A ${r.kind} rule needs a pattern`, { pattern: ['required for kind regex, key and exempt'] });
  if ((r.kind === 'email' || r.kind === 'ip') && r.pattern)
    throw badRequest(`A ${r.kind} rule takes no pattern`, { pattern: [`must be empty for kind ${r.kind}`] });
  if (r.kind === 'phone' && r.pattern && !/^[A-Z]{2}$/.test(r.pattern))
    throw badRequest("A phone rule's pattern is a default country", { pattern: ['a two-letter country code such as US, or empty'] });
  if (r.kind === 'regex') {
    const error = checkRegex(r.pattern!);
    if (error) throw badRequest('The regex does not compile (RE2 syntax: no backreferences or lookarounds)', { pattern: [error] });
  }
}

export class ScrubbingService {
  private readonly ds: DataSource;

  constructor(private readonly access: Access) {
    this.ds = access.ds;
  }

  async list(actor: Actor, projectId: number): Promise<ScrubbingRuleOut[]> {
    await this.access.authorize(actor, projectId, 'view');
    const rows: Row[] = await this.ds.query(`${SELECT} WHERE project_id = $1 ORDER BY id`, [projectId]);
    return rows.map(serializeScrubbingRule);
  }

  async get(actor: Actor, projectId: number, id: number): Promise<ScrubbingRuleOut> {
    await this.access.authorize(actor, projectId, 'view');
    return serializeScrubbingRule(await this.row(projectId, id));
  }

  private async row(projectId: number, id: number): Promise<Row> {
    const [row]: Row[] = await this.ds.query(`${SELECT} WHERE project_id = $1 AND id = $2`, [projectId, id]);
    if (!row) throw notFound('Scrubbing rule not found');
    return row;
  }

  async create(actor: Actor, projectId: number, input: RuleInput): Promise<ScrubbingRuleOut> {
    await this.access.authorize(actor, projectId, 'edit_project');
    const rule = { kind: input.kind, pattern: input.pattern || null, action: input.action ?? null };
    checkRule(rule);
    const [{ n }]: Array<{ n: number }> = await this.ds.query(`SELECT count(*)::int AS n FROM scrubbing_rules WHERE project_id = $1`, [
      projectId,
    ]);
    if (n >= MAX_RULES_PER_PROJECT) throw conflict(`At most ${MAX_RULES_PER_PROJECT} scrubbing rules per project`, 'too_many_rules');
    const [row]: Row[] = await this.ds.query(
      `INSERT INTO scrubbing_rules (project_id, kind, pattern, action, description, enabled) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id, project_id, kind, pattern, action, description, enabled, created_at, updated_at`,
      [projectId, rule.kind, rule.pattern, rule.action, input.description ?? '', input.enabled ?? true],
    );
    return serializeScrubbingRule(row);
  }

  async update(actor: Actor, projectId: number, id: number, changes: Partial<RuleInput>): Promise<ScrubbingRuleOut> {
    await this.access.authorize(actor, projectId, 'edit_project');
    const row = await this.row(projectId, id);
    const next = {
      kind: changes.kind ?? row.kind,
      pattern: changes.pattern === undefined ? row.pattern : changes.pattern || null,
      action: changes.action === undefined ? row.action : changes.action,
      description: changes.description ?? row.description,
      enabled: changes.enabled ?? row.enabled,
    };
    checkRule(next);
    const [[updated]]: [Row[], number] = await this.ds.query(
      `UPDATE scrubbing_rules SET kind = $3, pattern = $4, action = $5, description = $6, enabled = $7, updated_at = now()
        WHERE project_id = $1 AND id = $2 RETURNING id, project_id, kind, pattern, action, description, enabled, created_at, updated_at`,
      [projectId, id, next.kind, next.pattern, next.action, next.description, next.enabled],
    );
    return serializeScrubbingRule(updated);
  }

  async remove(actor: Actor, projectId: number, id: number): Promise<void> {
    await this.access.authorize(actor, projectId, 'edit_project');
    await this.row(projectId, id);
    await this.ds.query(`DELETE FROM scrubbing_rules WHERE project_id = $1 AND id = $2`, [projectId, id]);
  }

  /**
   * "Try it": a sample payload as the worker would store it, with the marks, under the
   * project's enabled rules plus any draft `rules` (not saved). Nothing is stored.
   */
  async test(actor: Actor, projectId: number, payload: unknown, drafts: RuleInput[] = []): Promise<{ payload: unknown; scrubbed: Mark[] }> {
    await this.access.authorize(actor, projectId, 'view');
    const rows: Row[] = await this.ds.query(`${SELECT} WHERE project_id = $1 AND enabled ORDER BY id`, [projectId]);
    const rules: ProjectRule[] = rows.map((r) => ({ id: r.id, kind: r.kind, pattern: r.pattern, action: r.action }));
    drafts.forEach((d, i) => {
      const rule = { kind: d.kind, pattern: d.pattern || null, action: d.action ?? null };
      checkRule(rule);
      // Drafts are numbered below zero in the marks (draft -1, -2, …), apart from saved rules.
      if (d.enabled !== false) rules.push({ id: -(i + 1), ...rule });
    });
    const marks = new Marks();
    const out = new Scrubber(rules, config.scrubbing.hashSecret).value(payload, '', marks);
    return { payload: out, scrubbed: marks.list };
  }
}
