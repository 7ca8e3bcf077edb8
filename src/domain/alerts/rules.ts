import type { DataSource } from 'typeorm';
import { AlertRule } from '../../entities/AlertRule.ts';
import { notFound } from '../errors.ts';
import type { Access, Actor } from '../access/index.ts';
import { defineRule, type RuleBody, type RuleDefinition, type RulePatch } from './definitions.ts';
import { invalid } from './validation.ts';

export function serializeRule(r: AlertRule) {
  return {
    id: r.id,
    project: r.projectId,
    name: r.name,
    trigger: r.trigger,
    params: r.params,
    filters: r.filters,
    channels: r.channelIds,
    cooldown_minutes: r.cooldownMinutes,
    digest_minutes: r.digestMinutes,
    snoozed_until: r.snoozedUntil?.toISOString() ?? null,
    enabled: r.enabled,
    created_by: r.createdById,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

const toBody = (r: AlertRule): RuleBody => ({
  name: r.name,
  trigger: r.trigger as RuleBody['trigger'],
  params: r.params,
  filters: r.filters,
  channels: r.channelIds,
  cooldown_minutes: r.cooldownMinutes,
  digest_minutes: r.digestMinutes,
  snoozed_until: r.snoozedUntil?.toISOString() ?? null,
  enabled: r.enabled,
});

/** Every channel a rule names must be one of its project's. */
async function assertChannels(ds: DataSource, projectId: number, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const rows: Array<{ id: number }> = await ds.query(`SELECT id FROM alert_channels WHERE project_id = $1 AND id = ANY($2::int[])`, [
    projectId,
    ids,
  ]);
  const known = new Set(rows.map((r) => r.id));
  const problems = ids.flatMap((id, i) =>
    known.has(id) ? [] : [{ path: `channels.${i}`, message: `no alert channel ${id} in this project` }],
  );
  if (problems.length) throw invalid(problems);
}

function apply(rule: AlertRule, d: RuleDefinition): AlertRule {
  rule.name = d.name;
  rule.trigger = d.trigger;
  rule.params = d.params;
  rule.filters = d.filters as Record<string, unknown>;
  rule.channelIds = d.channels;
  rule.cooldownMinutes = d.cooldownMinutes;
  rule.digestMinutes = d.digestMinutes;
  rule.snoozedUntil = d.snoozedUntil;
  rule.enabled = d.enabled;
  return rule;
}

export async function listRules(access: Access, actor: Actor, projectId: number): Promise<AlertRule[]> {
  const { ds } = access;
  await access.authorize(actor, projectId, 'view');
  return ds.getRepository(AlertRule).find({ where: { projectId }, order: { id: 'ASC' } });
}

/** A rule of a project the actor may `action` in; another project's rule is 404. */
export async function ruleFor(
  access: Access,
  actor: Actor,
  projectId: number,
  ruleId: number,
  action: 'view' | 'manage_alerts' = 'view',
): Promise<AlertRule> {
  const { ds } = access;
  await access.authorize(actor, projectId, action);
  const rule =
    Number.isSafeInteger(ruleId) && ruleId < 2 ** 31 ? await ds.getRepository(AlertRule).findOneBy({ id: ruleId, projectId }) : null;
  if (!rule) throw notFound('Alert rule not found');
  return rule;
}

export async function createRule(access: Access, actor: Actor, projectId: number, body: RuleBody): Promise<AlertRule> {
  const { ds } = access;
  await access.authorize(actor, projectId, 'manage_alerts');
  const d = defineRule(body);
  await assertChannels(ds, projectId, d.channels);
  const rule = apply(ds.getRepository(AlertRule).create({ projectId, createdById: actor.id }), d);
  return ds.getRepository(AlertRule).save(rule);
}

/** What is not sent stays; a changed trigger needs params for it (checked like a new rule). */
export async function updateRule(access: Access, actor: Actor, projectId: number, ruleId: number, patch: RulePatch): Promise<AlertRule> {
  const { ds } = access;
  const rule = await ruleFor(access, actor, projectId, ruleId, 'manage_alerts');
  const current = toBody(rule);
  const triggerChanged = patch.trigger !== undefined && patch.trigger !== rule.trigger;
  const merged: RuleBody = {
    ...current,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    params: patch.params ?? (triggerChanged ? {} : current.params),
    filters: patch.filters ?? current.filters,
  } as RuleBody;
  const d = defineRule(merged);
  await assertChannels(ds, projectId, d.channels);
  return ds.getRepository(AlertRule).save(apply(rule, d));
}

export async function deleteRule(access: Access, actor: Actor, projectId: number, ruleId: number): Promise<void> {
  const { ds } = access;
  const rule = await ruleFor(access, actor, projectId, ruleId, 'manage_alerts');
  await ds.getRepository(AlertRule).delete({ id: rule.id });
}
