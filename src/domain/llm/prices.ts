/**
 * What an LLM call cost: a per-model price table (US dollars per million input, output
 * and cached-input tokens) in three layers — a project's overrides, then the instance's
 * (staff), then the built-in defaults (defaultPrices.ts). The first layer with a match
 * decides; within a layer an exact name beats a pattern, and a longer pattern a shorter.
 * Workers price each call when they store it (src/workers/storeLlmLogs.ts).
 */
import type { DataSource } from 'typeorm';
import type { Actor } from '../access/access.ts';
import type { Access } from '../access/index.ts';
import { conflict, forbidden, notFound } from '../errors.ts';
import { DEFAULT_PRICES } from './defaultPrices.ts';

export type PriceSource = 'project' | 'instance' | 'default';

export interface Price {
  id: number | null;
  project: number | null;
  model: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million: number | null;
  source: PriceSource;
}

export interface Usage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  cached_tokens?: number | null;
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
const patternCache = new Map<string, RegExp>();
function regexOf(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    if (patternCache.size > 10_000) patternCache.clear();
    re = new RegExp(`^${pattern.toLowerCase().split('*').map(escape).join('.*')}$`);
    patternCache.set(pattern, re);
  }
  return re;
}

/**
 * The names a model goes by: as sent, and without a provider prefix — `openai/gpt-4o`,
 * `models/gemini-1.5-pro`, Bedrock's `anthropic.claude-3-5-sonnet-20240620-v1:0`.
 */
function namesOf(model: string): string[] {
  const m = model.trim().toLowerCase();
  const names = [m];
  const slash = m.lastIndexOf('/');
  if (slash !== -1) names.push(m.slice(slash + 1));
  const vendor = /^[a-z]+\.(.+)$/.exec(names.at(-1)!);
  if (vendor) names.push(vendor[1]);
  return names;
}

/** Exact names rank above every pattern; patterns by how many literal characters they hold. */
const specificity = (pattern: string) => (pattern.includes('*') ? pattern.replaceAll('*', '').length : Number.MAX_SAFE_INTEGER);

/** The best price for `model` within one layer, or null. */
export function matchIn<P extends { model: string }>(layer: readonly P[], model: string): P | null {
  const names = namesOf(model);
  let best: P | null = null;
  let bestScore = -1;
  for (const price of layer) {
    const score = specificity(price.model);
    if (score <= bestScore) continue;
    const re = regexOf(price.model);
    if (names.some((n) => re.test(n))) {
      best = price;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Dollars for one call: uncached input at the input price, cached input at the cached
 * price (or the input price), output at the output price. Null when the tokens are not
 * known — a total alone does not say how much was input.
 */
export function costOf(
  price: Pick<Price, 'input_per_million' | 'output_per_million' | 'cached_input_per_million'>,
  usage: Usage,
): number | null {
  const prompt = usage.prompt_tokens ?? null;
  const completion = usage.completion_tokens ?? null;
  if (prompt === null && completion === null) return null;
  const cached = Math.min(usage.cached_tokens ?? 0, prompt ?? 0);
  const dollars =
    ((prompt ?? 0) - cached) * price.input_per_million +
    cached * (price.cached_input_per_million ?? price.input_per_million) +
    (completion ?? 0) * price.output_per_million;
  return Math.round((dollars / 1e6) * 1e10) / 1e10; // ten decimals: no float dust in sums
}

export const DEFAULT_LAYER: readonly Price[] = DEFAULT_PRICES.map((d) => ({
  id: null,
  project: null,
  model: d.model,
  input_per_million: d.input,
  output_per_million: d.output,
  cached_input_per_million: d.cached_input,
  source: 'default',
}));

interface Row {
  id: number;
  project_id: number | null;
  model: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million: number | null;
}

const toPrice = (r: Row): Price => ({
  id: r.id,
  project: r.project_id,
  model: r.model,
  input_per_million: r.input_per_million,
  output_per_million: r.output_per_million,
  cached_input_per_million: r.cached_input_per_million,
  source: r.project_id === null ? 'instance' : 'project',
});

const SELECT = `SELECT id, project_id, model, input_per_million, output_per_million, cached_input_per_million FROM llm_prices`;

/** The price that applies to `model` in a project (null: no price known). */
export function resolvePrice(
  overrides: { project: readonly Price[]; instance: readonly Price[] },
  model: string | null | undefined,
): Price | null {
  if (!model) return null;
  return matchIn(overrides.project, model) ?? matchIn(overrides.instance, model) ?? matchIn(DEFAULT_LAYER, model);
}

/**
 * The overrides, cached for `ttlMs` per process (workers price every stored call). A
 * change made through the API applies to calls stored after the cache turns over.
 */
export class PriceBook {
  private loaded: { at: number; byProject: Map<number, Price[]>; instance: Price[] } | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly ttlMs = 30_000,
  ) {}

  private async load(): Promise<void> {
    const rows: Row[] = await this.ds.query(SELECT);
    const byProject = new Map<number, Price[]>();
    const instance: Price[] = [];
    for (const r of rows) {
      const price = toPrice(r);
      if (r.project_id === null) instance.push(price);
      else byProject.set(r.project_id, [...(byProject.get(r.project_id) ?? []), price]);
    }
    this.loaded = { at: Date.now(), byProject, instance };
  }

  async price(projectId: number, model: string | null | undefined): Promise<Price | null> {
    if (!this.loaded || Date.now() - this.loaded.at > this.ttlMs) {
      this.loading ??= this.load().finally(() => (this.loading = null));
      await this.loading;
    }
    const l = this.loaded!;
    return resolvePrice({ project: l.byProject.get(projectId) ?? [], instance: l.instance }, model);
  }

  async cost(projectId: number, model: string | null | undefined, usage: Usage): Promise<number | null> {
    const price = await this.price(projectId, model);
    return price ? costOf(price, usage) : null;
  }

  invalidate(): void {
    this.loaded = null;
  }
}

// --- managing overrides (API and admin) ---------------------------------------------

export interface PriceInput {
  project: number | null;
  model: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million?: number | null;
}

/** Instance prices are staff's; a project's, its admins' (and owner's). */
async function authorizeLayer(access: Access, actor: Actor, project: number | null): Promise<void> {
  if (project === null) {
    if (!actor.isStaff) throw forbidden('Only staff set instance-wide prices; send "project" to set a price for one project');
    return;
  }
  await access.authorize(actor, project, 'edit_project');
}

export class PriceService {
  private readonly ds: DataSource;

  constructor(private readonly access: Access) {
    this.ds = access.ds;
  }

  /** Every price that applies in a project (or instance-wide, without one): its overrides, the instance's, the defaults. */
  async effective(actor: Actor, project: number | null): Promise<Price[]> {
    if (project !== null) await this.access.authorize(actor, project, 'view');
    const rows: Row[] = await this.ds.query(
      `${SELECT} WHERE project_id IS NULL${project !== null ? ' OR project_id = $1' : ''} ORDER BY project_id NULLS LAST, model`,
      project !== null ? [project] : [],
    );
    const prices = rows.map(toPrice);
    return [...prices.filter((p) => p.source === 'project'), ...prices.filter((p) => p.source === 'instance'), ...DEFAULT_LAYER];
  }

  /** The price a model gets in a project: what `cost` of its calls is computed with. */
  async resolve(actor: Actor, project: number | null, model: string): Promise<Price | null> {
    const all = await this.effective(actor, project);
    return resolvePrice(
      { project: all.filter((p) => p.source === 'project'), instance: all.filter((p) => p.source === 'instance') },
      model,
    );
  }

  async create(actor: Actor, input: PriceInput): Promise<Price> {
    await authorizeLayer(this.access, actor, input.project);
    try {
      const [row]: Row[] = await this.ds.query(
        `INSERT INTO llm_prices (project_id, model, input_per_million, output_per_million, cached_input_per_million)
         VALUES ($1, $2, $3, $4, $5) RETURNING id, project_id, model, input_per_million, output_per_million, cached_input_per_million`,
        [input.project, input.model.trim(), input.input_per_million, input.output_per_million, input.cached_input_per_million ?? null],
      );
      return toPrice(row);
    } catch (err) {
      if ((err as { code?: string }).code === '23505')
        throw conflict(`A price for "${input.model}" already exists here; change that one`, 'price_exists');
      throw err;
    }
  }

  /** A price override, for a change: 404 when the actor cannot see it, 403 when they may not change it. */
  private async editable(actor: Actor, id: number): Promise<Row> {
    const [row]: Row[] = Number.isSafeInteger(id) && id > 0 && id < 2 ** 31 ? await this.ds.query(`${SELECT} WHERE id = $1`, [id]) : [];
    if (!row) throw notFound('Price not found');
    if (row.project_id === null) {
      if (!actor.isStaff) throw forbidden('Only staff change instance-wide prices');
      return row;
    }
    await this.access.guard(actor, row, (r) => r.project_id!, 'edit_project', 'Price');
    return row;
  }

  async update(actor: Actor, id: number, changes: Partial<Omit<PriceInput, 'project'>>): Promise<Price> {
    const row = await this.editable(actor, id);
    const next = { ...row, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) } as Row;
    try {
      // TypeORM answers an UPDATE as [rows, affected count].
      const [[updated]]: [Row[], number] = await this.ds.query(
        `UPDATE llm_prices SET model = $2, input_per_million = $3, output_per_million = $4, cached_input_per_million = $5, updated_at = now()
          WHERE id = $1 RETURNING id, project_id, model, input_per_million, output_per_million, cached_input_per_million`,
        [id, next.model.trim(), next.input_per_million, next.output_per_million, next.cached_input_per_million],
      );
      return toPrice(updated);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw conflict(`A price for "${next.model}" already exists here`, 'price_exists');
      throw err;
    }
  }

  async remove(actor: Actor, id: number): Promise<void> {
    await this.editable(actor, id);
    await this.ds.query(`DELETE FROM llm_prices WHERE id = $1`, [id]);
  }
}
