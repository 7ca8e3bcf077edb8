import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { config } from '../../config.ts';
import { AlertChannel, CHANNEL_TYPES, type ChannelConfig, type ChannelType } from '../../entities/AlertChannel.ts';
import { notFound } from '../errors.ts';
import type { Access, Actor } from '../access/index.ts';
import { seal, unseal } from './seal.ts';
import { checkTarget, TargetRefused } from './ssrf.ts';
import { invalid } from './validation.ts';

export const RECIPIENT_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;

const email = z.email('not an email address').max(254);
/** Addresses compare case-insensitively (as users' emails do here): stored lower-cased, once each. */
const addresses = () =>
  z
    .array(email)
    .min(1)
    .max(50)
    .transform((a) => [...new Set(a.map((x) => x.toLowerCase()))]);
const httpUrl = z
  .string()
  .max(2000)
  .refine((v) => URL.canParse(v) && ['http:', 'https:'].includes(new URL(v).protocol), 'must be an http:// or https:// URL');

export const ChannelBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  type: z.enum(CHANNEL_TYPES),
  url: httpUrl.optional().meta({ description: 'webhook, slack, discord: where to POST. Never shown in full again' }),
  addresses: addresses().optional().meta({ description: 'email: recipients' }),
  roles: z
    .array(z.enum(RECIPIENT_ROLES))
    .min(1)
    .optional()
    .meta({ description: 'email: also every project member with one of these roles' }),
  enabled: z.boolean().default(true),
});
export type ChannelBody = z.output<typeof ChannelBodySchema>;

export const ChannelPatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  url: httpUrl.optional(),
  addresses: addresses().nullable().optional(),
  roles: z.array(z.enum(RECIPIENT_ROLES)).min(1).nullable().optional(),
  enabled: z.boolean().optional(),
  rotate_secret: z.boolean().optional().meta({ description: 'webhook: a new signing secret, answered once as `secret`' }),
});
export type ChannelPatch = z.output<typeof ChannelPatchSchema>;

/** What only the sender may read. */
export interface ChannelSecrets {
  url?: string;
  secret?: string;
}

const isHttpType = (t: ChannelType) => t !== 'email';
const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

/** https://hooks.slack.com/services/T0/B0/abcdef → https://hooks.slack.com/…cdef: enough to recognise, not to use. */
export function maskUrl(url: string): string {
  const u = new URL(url);
  const rest = `${u.pathname}${u.search}`;
  return `${u.protocol}//${u.host}${rest.length > 1 ? `/…${rest.slice(-4)}` : '/'}`;
}

export function serializeChannel(c: AlertChannel) {
  return {
    id: c.id,
    project: c.projectId,
    name: c.name,
    type: c.type,
    target: c.targetHint,
    addresses: c.config.addresses ?? [],
    roles: c.config.roles ?? [],
    enabled: c.enabled,
    created_by: c.createdById,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/** The target must be allowed now (ALERT_ALLOW_PRIVATE_TARGETS); it is checked again, by address, at every send. */
async function assertTarget(url: string): Promise<void> {
  try {
    await checkTarget(new URL(url));
  } catch (err) {
    if (err instanceof TargetRefused) throw invalid([{ path: 'url', message: err.message }], 'This target is not allowed');
    throw invalid(
      [
        {
          path: 'url',
          message: `cannot resolve ${new URL(url).hostname}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        },
      ],
      'This target cannot be reached',
    );
  }
}

function checkShape(type: ChannelType, has: { url: boolean; addresses: boolean; roles: boolean }): void {
  const problems = [];
  if (isHttpType(type)) {
    if (!has.url) problems.push({ path: 'url', message: `required for a ${type} channel` });
    if (has.addresses) problems.push({ path: 'addresses', message: `only for email channels` });
    if (has.roles) problems.push({ path: 'roles', message: `only for email channels` });
  } else {
    if (has.url) problems.push({ path: 'url', message: 'email channels send to addresses and roles, not a URL' });
    if (!has.addresses && !has.roles) problems.push({ path: 'addresses', message: 'an email channel needs addresses, roles, or both' });
    if (!config.alerts.smtpUrl) problems.push({ path: 'type', message: 'email needs SMTP_URL set on the server' });
  }
  if (problems.length) throw invalid(problems);
}

export async function listChannels(access: Access, actor: Actor, projectId: number): Promise<AlertChannel[]> {
  const { ds } = access;
  await access.authorize(actor, projectId, 'view');
  return ds.getRepository(AlertChannel).find({ where: { projectId }, order: { id: 'ASC' } });
}

export async function channelFor(
  access: Access,
  actor: Actor,
  projectId: number,
  channelId: number,
  action: 'view' | 'manage_alerts' = 'view',
): Promise<AlertChannel> {
  const { ds } = access;
  await access.authorize(actor, projectId, action);
  const channel =
    Number.isSafeInteger(channelId) && channelId < 2 ** 31
      ? await ds.getRepository(AlertChannel).findOneBy({ id: channelId, projectId })
      : null;
  if (!channel) throw notFound('Alert channel not found');
  return channel;
}

/** A new channel; a webhook's signing secret is generated and answered here, once. */
export async function createChannel(
  access: Access,
  actor: Actor,
  projectId: number,
  body: ChannelBody,
): Promise<{ channel: AlertChannel; secret: string | null }> {
  const { ds } = access;
  await access.authorize(actor, projectId, 'manage_alerts');
  checkShape(body.type, { url: body.url !== undefined, addresses: body.addresses !== undefined, roles: body.roles !== undefined });
  if (body.url) await assertTarget(body.url);
  const secret = body.type === 'webhook' ? newSecret() : null;
  const cfg: ChannelConfig = body.type === 'email' ? { addresses: body.addresses ?? [], roles: body.roles ?? [] } : {};
  const channel = ds.getRepository(AlertChannel).create({
    projectId,
    name: body.name,
    type: body.type,
    config: cfg,
    targetHint: body.url
      ? maskUrl(body.url)
      : [...(body.addresses ?? []), ...(body.roles ?? []).map((r) => `role:${r}`)].join(', ').slice(0, 300),
    sealed: body.url ? seal({ url: body.url, secret: secret ?? undefined } satisfies ChannelSecrets) : null,
    enabled: body.enabled,
    createdById: actor.id,
  });
  const saved = await ds.getRepository(AlertChannel).save(channel);
  return { channel: saved, secret };
}

export async function readSecrets(ds: DataSource, channelId: number): Promise<ChannelSecrets> {
  const row = await ds
    .getRepository(AlertChannel)
    .createQueryBuilder('c')
    .addSelect('c.sealed')
    .where('c.id = :channelId', { channelId })
    .getOne();
  return row?.sealed ? unseal<ChannelSecrets>(row.sealed) : {};
}

export async function updateChannel(
  access: Access,
  actor: Actor,
  projectId: number,
  channelId: number,
  patch: ChannelPatch,
): Promise<{ channel: AlertChannel; secret: string | null }> {
  const { ds } = access;
  const channel = await channelFor(access, actor, projectId, channelId, 'manage_alerts');
  const problems = [];
  if (channel.type === 'email') {
    if (patch.url !== undefined) problems.push({ path: 'url', message: 'email channels send to addresses and roles, not a URL' });
    if (patch.rotate_secret) problems.push({ path: 'rotate_secret', message: 'only webhook channels have a signing secret' });
  } else {
    if (patch.addresses != null) problems.push({ path: 'addresses', message: 'only for email channels' });
    if (patch.roles != null) problems.push({ path: 'roles', message: 'only for email channels' });
    if (patch.rotate_secret && channel.type !== 'webhook')
      problems.push({ path: 'rotate_secret', message: 'only webhook channels have a signing secret' });
  }
  if (problems.length) throw invalid(problems);
  if (patch.name !== undefined) channel.name = patch.name;
  if (patch.enabled !== undefined) channel.enabled = patch.enabled;
  let secret: string | null = null;
  if (channel.type === 'email') {
    const cfg: ChannelConfig = {
      addresses: patch.addresses === undefined ? channel.config.addresses : (patch.addresses ?? []),
      roles: patch.roles === undefined ? channel.config.roles : (patch.roles ?? []),
    };
    if (!cfg.addresses?.length && !cfg.roles?.length)
      throw invalid([{ path: 'addresses', message: 'an email channel needs addresses, roles, or both' }]);
    channel.config = cfg;
    channel.targetHint = [...(cfg.addresses ?? []), ...(cfg.roles ?? []).map((r) => `role:${r}`)].join(', ').slice(0, 300);
  } else if (patch.url !== undefined || patch.rotate_secret) {
    const current = await readSecrets(ds, channel.id);
    if (patch.url !== undefined) await assertTarget(patch.url);
    const url = patch.url ?? current.url!;
    if (patch.rotate_secret) secret = newSecret();
    channel.sealed = seal({ url, secret: secret ?? current.secret } satisfies ChannelSecrets);
    channel.targetHint = maskUrl(url);
  }
  const saved = await ds.getRepository(AlertChannel).save(channel);
  return { channel: saved, secret };
}

export async function deleteChannel(access: Access, actor: Actor, projectId: number, channelId: number): Promise<void> {
  const { ds } = access;
  const channel = await channelFor(access, actor, projectId, channelId, 'manage_alerts');
  await ds.transaction(async (em) => {
    // Rules stop naming it; its notifications and delivery log go with it.
    await em.query(
      `UPDATE alert_rules SET channel_ids = array_remove(channel_ids, $2), updated_at = now() WHERE project_id = $1 AND $2 = ANY(channel_ids)`,
      [projectId, channel.id],
    );
    await em.query(`DELETE FROM alert_channels WHERE id = $1`, [channel.id]);
  });
}

/** Email recipients at send time: the listed addresses, plus members in the chosen roles (owner included when asked). */
export async function recipientsOf(ds: DataSource, channel: { projectId: number; config: ChannelConfig }): Promise<string[]> {
  const out = new Set((channel.config.addresses ?? []).map((a) => a.toLowerCase()));
  const roles = channel.config.roles ?? [];
  if (roles.length) {
    const rows: Array<{ email: string }> = await ds.query(
      `SELECT u.email FROM projects p JOIN users u ON u.id = p.owner_id WHERE p.id = $1 AND 'owner' = ANY($2::text[]) AND u.is_active
       UNION
       SELECT u.email FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND m.role = ANY($2::text[]) AND u.is_active`,
      [channel.projectId, roles],
    );
    for (const r of rows) out.add(r.email.toLowerCase());
  }
  return [...out];
}
