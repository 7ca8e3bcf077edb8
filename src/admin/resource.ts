import { Resource } from '@adminjs/typeorm';
import { BaseRecord, ForbiddenError, type ActionContext, type BaseProperty, type Filter, type ParamsType } from 'adminjs';
import type { BaseEntity, SelectQueryBuilder } from 'typeorm';
import { cappedCountOf } from '../domain/pagination.ts';
import { scopeCondition, type ProjectAction } from '../domain/access/index.ts';
import { scopeOf } from './auth.ts';
import type { AdminUser } from './session.ts';

/** A SQL condition (on alias `r`) with its named parameters; null means "no restriction". */
export type Condition = { sql: string; params?: Record<string, unknown> } | null;

export interface ResourceRules {
  /** Resource id, when one entity backs two resources (errors and logs are both events). */
  id?: string;
  /** Which rows this admin may see at all: tenancy, enforced in every read. */
  scope: (admin: AdminUser | undefined) => Condition;
  /** Always applied, e.g. "r.kind = 'log'". */
  fixed?: string;
  /** String properties filtered by equality (indexed), rather than the default substring match. */
  exact?: string[];
  /** Properties that edits may change; anything else in a payload is ignored. */
  editable?: string[];
  /** Big columns (stack traces, prompts, JSON) left out of list pages; `excerpt` ones come cut to 200 characters. */
  heavy?: string[];
  excerpt?: string[];
  /** SQL for filtering a property when it is not the plain column (e.g. an indexed expression). */
  filterExpr?: Record<string, string>;
}

type Model = typeof BaseEntity;

/** Rows of the projects where the admin may do `action` (staff: every row), as the access module scopes lists. */
export const projectScope =
  (column: string, action: ProjectAction = 'view') =>
  (admin: AdminUser | undefined): Condition =>
    scopeCondition(scopeOf(admin, action), column);

export const staffOnlyScope = (admin: AdminUser | undefined): Condition => (admin?.isStaff ? null : { sql: 'false' });

const admin = (context?: ActionContext) => context?.currentAdmin as AdminUser | undefined;
const escapeLike = (v: string) => v.replace(/[\\%_]/g, (c) => `\\${c}`);
const INTEGER = /^\d{1,18}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The TypeORM adapter with Faultline's rules built in: every read (list, count, one
 * record, bulk selections, reference look-ups) is limited to what the signed-in admin
 * may see, so a crafted URL to another project's record finds nothing; filters use
 * indexed comparisons; and counts are capped like the logs API's (an exact count of a
 * million rows costs more than the page itself).
 */
export class ScopedResource extends Resource {
  constructor(
    protected readonly entity: Model,
    protected readonly rules: ResourceRules,
  ) {
    super(entity);
  }

  override id(): string {
    return this.rules.id ?? super.id();
  }

  protected get repo() {
    return this.entity.getRepository();
  }

  /** The base query: alias `r`, tenancy and fixed conditions applied. */
  protected query(context?: ActionContext): SelectQueryBuilder<BaseEntity> {
    const qb = this.repo.createQueryBuilder('r');
    if (this.rules.fixed) qb.andWhere(this.rules.fixed);
    const scope = this.rules.scope(admin(context));
    if (scope) qb.andWhere(scope.sql, scope.params);
    return qb;
  }

  private applyFilter(qb: SelectQueryBuilder<BaseEntity>, filter?: Filter): void {
    let n = 0;
    for (const el of Object.values(filter?.filters ?? {})) {
      const property = el.property as BaseProperty & { column?: { propertyName: string; type: unknown; isArray?: boolean } };
      const column = property.column?.propertyName ?? el.path;
      if (!this.repo.metadata.findColumnWithPropertyName(column)) continue;
      const p = `f${n++}`;
      const value = el.value;
      const field = this.rules.filterExpr?.[column] ?? `r.${column}`;
      const type = property.type();
      if (typeof value === 'object' && value !== null) {
        if (value.from) qb.andWhere(`${field} >= :${p}from`, { [`${p}from`]: new Date(value.from) });
        if (value.to) qb.andWhere(`${field} <= :${p}to`, { [`${p}to`]: new Date(value.to) });
      } else if (property.column?.isArray) {
        qb.andWhere(`:${p} = ANY(${field})`, { [p]: value });
      } else if (type === 'number' || type === 'reference' || type === 'boolean' || property.isId()) {
        qb.andWhere(`${field} = :${p}`, { [p]: this.typed(property, String(value)) });
      } else if (property.column?.type === 'uuid') {
        qb.andWhere(UUID.test(String(value)) ? `${field} = :${p}` : 'false', { [p]: value });
      } else if (type === 'string' && !this.rules.exact?.includes(column)) {
        qb.andWhere(`${field} ILIKE :${p}`, { [p]: `%${escapeLike(String(value))}%` });
      } else if (type === 'string') {
        qb.andWhere(`${field} = :${p}`, { [p]: String(value) });
      }
    }
  }

  /** A filter or id value as its column's type; an impossible value matches nothing instead of failing the query. */
  private typed(property: BaseProperty, value: string): unknown {
    const type = property.type();
    if (type === 'boolean') return value === 'true';
    if (
      (type === 'number' || type === 'reference' || property.isId()) &&
      (property as { column?: { type: unknown } }).column?.type !== 'uuid'
    ) {
      return INTEGER.test(value) ? value : '-1';
    }
    return value;
  }

  override async count(filter: Filter, context?: ActionContext): Promise<number> {
    const qb = this.query(context);
    this.applyFilter(qb, filter);
    const [sql, params] = qb.select('1').getQueryAndParameters();
    return cappedCountOf(this.repo.manager.connection, sql, params);
  }

  override async find(
    filter: Filter,
    params: { limit?: number; offset?: number; sort?: { sortBy?: string; direction?: 'asc' | 'desc' } },
    context?: ActionContext,
  ): Promise<BaseRecord[]> {
    const qb = this.query(context);
    this.applyFilter(qb, filter);
    const { limit = 10, offset = 0, sort = {} } = params;
    const direction = sort.direction === 'asc' ? 'ASC' : 'DESC';
    const idName = this.idName();
    const sortBy = sort.sortBy && this.repo.metadata.findColumnWithPropertyName(sort.sortBy) ? sort.sortBy : idName;
    qb.orderBy(`r.${sortBy}`, direction);
    if (sortBy !== idName) qb.addOrderBy(`r.${idName}`, direction); // stable pages when values tie
    const heavy = new Set(this.rules.heavy ?? []);
    if (heavy.size) {
      const light = this.repo.metadata.columns.filter((c) => !heavy.has(c.propertyName) && c.isSelect);
      qb.select(light.map((c) => `r.${c.propertyName}`));
      for (const name of this.rules.excerpt ?? []) qb.addSelect(`left(r.${name}, 200)`, `excerpt_${name}`);
    }
    const { entities, raw } = await qb.limit(limit).offset(offset).getRawAndEntities();
    return entities.map((row, i) => {
      for (const name of this.rules.excerpt ?? []) (row as unknown as Record<string, unknown>)[name] = raw[i]?.[`excerpt_${name}`];
      return new BaseRecord(row as unknown as ParamsType, this);
    });
  }

  private validId(id: string): boolean {
    const property = this.property(this.idName());
    return (property as { column?: { type: unknown } } | null)?.column?.type === 'uuid' ? UUID.test(id) : INTEGER.test(id);
  }

  override async findOne(id: string, context?: ActionContext): Promise<BaseRecord | null> {
    if (!this.validId(String(id))) return null;
    const row = await this.query(context).andWhere(`r.${this.idName()} = :id`, { id }).getOne();
    return row ? new BaseRecord(row as unknown as ParamsType, this) : null;
  }

  override async findMany(ids: Array<string | number>, context?: ActionContext): Promise<BaseRecord[]> {
    const valid = ids.map(String).filter((id) => this.validId(id));
    if (!valid.length) return [];
    const rows = await this.query(context).andWhere(`r.${this.idName()} IN (:...ids)`, { ids: valid }).getMany();
    return rows.map((row) => new BaseRecord(row as unknown as ParamsType, this));
  }

  /** Only `editable` properties change; the record was already found through the scope. */
  override async update(id: string, params: Record<string, unknown>): Promise<ParamsType> {
    const allowed = Object.fromEntries(Object.entries(params).filter(([k]) => this.rules.editable?.includes(k)));
    if (!Object.keys(allowed).length) return this.paramsOf(id);
    return super.update(id, allowed);
  }

  protected async paramsOf(id: string): Promise<ParamsType> {
    const row = await this.repo.findOneBy({ [this.idName()]: id });
    return (row ?? {}) as unknown as ParamsType;
  }

  /** Creating goes through domain services, resource by resource; nothing is created generically. */
  override async create(_params: Record<string, unknown>, _context?: ActionContext): Promise<ParamsType> {
    throw new ForbiddenError(`${this.id()} records are not created from the admin`);
  }
}
