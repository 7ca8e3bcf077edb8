import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Access } from '../../../domain/access/index.ts';
import { badRequest } from '../../../domain/errors.ts';
import { PriceService } from '../../../domain/llm/prices.ts';
import { llmStats } from '../../../domain/llm/stats.ts';
import { parseDateParam } from '../../../domain/logs/filters.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { PriceIdParam, PriceIn, PriceListQuery, PricePatch, StatsQuery } from './schema.ts';

const MAX_STATS_DAYS = 366;

/** LLM prices (`/api/llm-prices/`) and usage stats (`/api/llm-logs/stats/`). */
export function llmRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  const prices = new PriceService(access);

  r.get('/api/llm-prices', requireUser(access), async (req, res) => {
    const q = PriceListQuery.parse(req.query);
    const user = currentUser(req);
    const results = q.model
      ? [await prices.resolve(user, q.project ?? null, q.model)].filter((p) => p !== null)
      : await prices.effective(user, q.project ?? null);
    res.json({ count: results.length, next: null, previous: null, results });
  });

  r.post('/api/llm-prices', requireUser(access), async (req, res) => {
    const body = PriceIn.parse(req.body);
    res.status(201).json(await prices.create(currentUser(req), { ...body, project: body.project ?? null }));
  });

  r.patch('/api/llm-prices/:id', requireUser(access), async (req, res) => {
    const { id } = PriceIdParam.parse(req.params);
    res.json(await prices.update(currentUser(req), id, PricePatch.parse(req.body ?? {})));
  });

  r.delete('/api/llm-prices/:id', requireUser(access), async (req, res) => {
    const { id } = PriceIdParam.parse(req.params);
    await prices.remove(currentUser(req), id);
    res.status(204).end();
  });

  r.get('/api/llm-logs/stats', requireUser(access), async (req, res) => {
    const q = StatsQuery.parse(req.query);
    const scope = await access.scope(currentUser(req), q.project);
    const to = parseDateParam(q.date_to, 'date_to')?.date ?? new Date();
    const from = parseDateParam(q.date_from, 'date_from')?.date ?? new Date(to.getTime() - 30 * 86_400_000);
    if (from >= to) throw badRequest('date_from must be before date_to', { date_from: ['must be before date_to'] });
    if (to.getTime() - from.getTime() > MAX_STATS_DAYS * 86_400_000)
      throw badRequest(`At most ${MAX_STATS_DAYS} days at once`, { date_from: [`at most ${MAX_STATS_DAYS} days before date_to`] });
    res.json(await llmStats(ds, scope, { from, to, model: q.model || undefined }));
  });

  return r;
}
