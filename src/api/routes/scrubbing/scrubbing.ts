import { Router } from 'express';
import type { Access } from '../../../domain/access/index.ts';
import { ScrubbingService } from '../../../domain/scrubbing/service.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { ProjectIdParam } from '../projects/schema.ts';
import { RuleIn, RuleParam, RulePatch, TestIn } from './schema.ts';

/** `/api/projects/{id}/scrubbing-rules/`: a project's scrubbing rules, and "try it". */
export function scrubbingRoutes(access: Access): Router {
  const r = Router();
  const rules = new ScrubbingService(access);

  r.get('/:id/scrubbing-rules', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    const results = await rules.list(currentUser(req), id);
    res.json({ count: results.length, next: null, previous: null, results });
  });

  r.post('/:id/scrubbing-rules/test', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    const body = TestIn.parse(req.body);
    res.json(await rules.test(currentUser(req), id, body.payload, body.rules));
  });

  r.post('/:id/scrubbing-rules', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    res.status(201).json(await rules.create(currentUser(req), id, RuleIn.parse(req.body)));
  });

  r.get('/:id/scrubbing-rules/:rule_id', requireUser(access), async (req, res) => {
    const { id, rule_id } = RuleParam.parse(req.params);
    res.json(await rules.get(currentUser(req), id, rule_id));
  });

  r.patch('/:id/scrubbing-rules/:rule_id', requireUser(access), async (req, res) => {
    const { id, rule_id } = RuleParam.parse(req.params);
    res.json(await rules.update(currentUser(req), id, rule_id, RulePatch.parse(req.body ?? {})));
  });

  r.delete('/:id/scrubbing-rules/:rule_id', requireUser(access), async (req, res) => {
    const { id, rule_id } = RuleParam.parse(req.params);
    await rules.remove(currentUser(req), id, rule_id);
    res.status(204).end();
  });

  return r;
}
