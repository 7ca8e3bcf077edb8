import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import {
  createChannel,
  channelFor,
  deleteChannel,
  listChannels,
  serializeChannel,
  updateChannel,
} from '../../../domain/alerts/channels.ts';
import { channelDeliveries, firingFor, listFirings, sendTestNotification } from '../../../domain/alerts/history.ts';
import { createRule, deleteRule, listRules, ruleFor, serializeRule, updateRule } from '../../../domain/alerts/rules.ts';
import { parseOr400 } from '../../../domain/alerts/validation.ts';
import { DEFAULT_PAGE_SIZE } from '../../../domain/pagination.ts';
import type { Access } from '../../../domain/access/index.ts';
import type { QueueName } from '../../../queues/contract.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks } from '../../pagination.ts';
import {
  ChannelBody,
  ChannelParams,
  ChannelPatch,
  FiringParams,
  FiringQuery,
  PlainPageQuery,
  ProjectParam,
  RuleBody,
  RuleParams,
  RulePatch,
} from './schema.ts';
import { alertJobs } from '../../../queues/alertJobs.ts';

const list = <T>(results: T[]) => ({ count: results.length, next: null, previous: null, results });
const pageOf = (q: { page?: number; page_size?: number }) => {
  const pageSize = q.page_size ?? DEFAULT_PAGE_SIZE;
  const page = q.page ?? 1;
  return { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize };
};

/**
 * /api/projects/{id}/alert-rules/, alert-channels/, alert-firings/ — thin: parse, call
 * src/domain/alerts. The project is checked before the body (a project you cannot see is
 * 404 whatever you send); members and viewers read, admins and the owner change.
 */
export function alertRoutes(deps: { ds: DataSource; access: Access; queues: Record<QueueName, Queue> }): Router {
  const { access, queues } = deps;
  const r = Router();
  // Per route, not r.use(): this router shares /api/projects with others, whose requests should not pay for it.
  const auth = requireUser(access);

  r.get('/:id/alert-rules', auth, async (req, res) => {
    const { id } = ProjectParam.parse(req.params);
    res.json(list((await listRules(access, currentUser(req), id)).map(serializeRule)));
  });
  r.post('/:id/alert-rules', auth, async (req, res) => {
    const { id } = ProjectParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'manage_alerts');
    const rule = await createRule(access, currentUser(req), id, parseOr400(RuleBody, req.body));
    res.status(201).json(serializeRule(rule));
  });
  r.get('/:id/alert-rules/:ruleId', auth, async (req, res) => {
    const { id, ruleId } = RuleParams.parse(req.params);
    res.json(serializeRule(await ruleFor(access, currentUser(req), id, ruleId)));
  });
  r.patch('/:id/alert-rules/:ruleId', auth, async (req, res) => {
    const { id, ruleId } = RuleParams.parse(req.params);
    await ruleFor(access, currentUser(req), id, ruleId, 'manage_alerts');
    res.json(serializeRule(await updateRule(access, currentUser(req), id, ruleId, parseOr400(RulePatch, req.body ?? {}))));
  });
  r.delete('/:id/alert-rules/:ruleId', auth, async (req, res) => {
    const { id, ruleId } = RuleParams.parse(req.params);
    await deleteRule(access, currentUser(req), id, ruleId);
    res.status(204).end();
  });

  r.get('/:id/alert-channels', auth, async (req, res) => {
    const { id } = ProjectParam.parse(req.params);
    res.json(list((await listChannels(access, currentUser(req), id)).map(serializeChannel)));
  });
  r.post('/:id/alert-channels', auth, async (req, res) => {
    const { id } = ProjectParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'manage_alerts');
    const { channel, secret } = await createChannel(access, currentUser(req), id, parseOr400(ChannelBody, req.body));
    res.status(201).json({ ...serializeChannel(channel), secret });
  });
  r.get('/:id/alert-channels/:channelId', auth, async (req, res) => {
    const { id, channelId } = ChannelParams.parse(req.params);
    res.json(serializeChannel(await channelFor(access, currentUser(req), id, channelId)));
  });
  r.patch('/:id/alert-channels/:channelId', auth, async (req, res) => {
    const { id, channelId } = ChannelParams.parse(req.params);
    await channelFor(access, currentUser(req), id, channelId, 'manage_alerts');
    const { channel, secret } = await updateChannel(access, currentUser(req), id, channelId, parseOr400(ChannelPatch, req.body ?? {}));
    res.json({ ...serializeChannel(channel), secret });
  });
  r.delete('/:id/alert-channels/:channelId', auth, async (req, res) => {
    const { id, channelId } = ChannelParams.parse(req.params);
    await deleteChannel(access, currentUser(req), id, channelId);
    res.status(204).end();
  });
  r.post('/:id/alert-channels/:channelId/test', auth, async (req, res) => {
    const { id, channelId } = ChannelParams.parse(req.params);
    res.status(202).json(await sendTestNotification(access, alertJobs(queues), currentUser(req), id, channelId));
  });
  r.get('/:id/alert-channels/:channelId/deliveries', auth, async (req, res) => {
    const { id, channelId } = ChannelParams.parse(req.params);
    const page = pageOf(PlainPageQuery.parse(req.query));
    const { count, results } = await channelDeliveries(access, currentUser(req), id, channelId, page);
    res.json({
      count,
      ...pageLinks(
        req,
        { mode: 'page', page: page.page, pageSize: page.pageSize },
        { hasMore: page.offset + results.length < count, nextCursor: null },
      ),
      results,
    });
  });

  r.get('/:id/alert-firings', auth, async (req, res) => {
    const { id } = ProjectParam.parse(req.params);
    const q = FiringQuery.parse(req.query);
    const page = pageOf(q);
    const { count, results } = await listFirings(access, currentUser(req), id, { rule: q.rule, status: q.status, kind: q.kind }, page);
    res.json({
      count,
      ...pageLinks(
        req,
        { mode: 'page', page: page.page, pageSize: page.pageSize },
        { hasMore: page.offset + results.length < count, nextCursor: null },
      ),
      results,
    });
  });
  r.get('/:id/alert-firings/:firingId', auth, async (req, res) => {
    const { id, firingId } = FiringParams.parse(req.params);
    res.json(await firingFor(access, currentUser(req), id, firingId));
  });

  return r;
}
