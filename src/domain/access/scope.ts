import { can, type ProjectAction, type ProjectRole } from './policy.ts';

/**
 * Which projects a read may touch (invariant 3, tenancy): some projects, or — for
 * staff — everything. Every list query takes one, built by the access module.
 */
export type Scope = { all: true } | { all: false; projectIds: number[] };

export const NOTHING: Scope = { all: false, projectIds: [] };

/**
 * The one SQL statement for "projects user $n can see": owned or joined, optionally only
 * with member roles allowing an action (the owner may do everything).
 */
export function visibleProjectsSql(userParam: string, memberRoles?: readonly string[]): string {
  const roles = memberRoles ? ` AND role IN (${memberRoles.map((r) => `'${r}'`).join(', ') || 'NULL'})` : '';
  return `SELECT id FROM projects WHERE owner_id = ${userParam} UNION SELECT project_id FROM project_members WHERE user_id = ${userParam}${roles}`;
}

/**
 * A SQL condition on `column` for the scope, appended to `params` (positional, $n). One
 * project is an equality (so the planner uses the per-project indexes); several an ANY.
 * Null means "no restriction" (staff).
 */
export function scopeClause(scope: Scope, params: unknown[], column = 'project_id'): string | null {
  if (scope.all) return null;
  if (scope.projectIds.length === 0) return 'false';
  if (scope.projectIds.length === 1) {
    params.push(scope.projectIds[0]);
    return `${column} = $${params.length}`;
  }
  params.push(scope.projectIds);
  return `${column} = ANY($${params.length}::int[])`;
}

/** The same for TypeORM query builders (named parameters). */
export function scopeCondition(scope: Scope, column: string, name = 'scopeIds'): { sql: string; params?: Record<string, unknown> } | null {
  if (scope.all) return null;
  if (scope.projectIds.length === 0) return { sql: 'false' };
  return { sql: `${column} IN (:...${name})`, params: { [name]: scope.projectIds } };
}

export const scopeAllows = (scope: Scope, projectId: number): boolean => scope.all || scope.projectIds.includes(projectId);

export const isEmpty = (scope: Scope): boolean => !scope.all && scope.projectIds.length === 0;

/**
 * A user's roles, as the access module loaded them (`Access.rolesOf`), read synchronously
 * — for the admin, whose AdminJS checks cannot wait on a query.
 */
export interface LoadedRoles {
  isStaff: boolean;
  roles: Readonly<Record<string, Exclude<ProjectRole, 'staff'>>>;
}

export function roleFrom(loaded: LoadedRoles | undefined, projectId: unknown): ProjectRole | null {
  if (!loaded) return null;
  return loaded.roles[String(projectId)] ?? (loaded.isStaff ? 'staff' : null);
}

export const mayFrom = (loaded: LoadedRoles | undefined, projectId: unknown, action: ProjectAction): boolean => {
  const role = roleFrom(loaded, projectId);
  return role !== null && can(role, action);
};

/** The projects in which the loaded roles allow `action` (staff: all). */
export function scopeFrom(loaded: LoadedRoles | undefined, action: ProjectAction = 'view'): Scope {
  if (!loaded) return NOTHING;
  if (loaded.isStaff) return { all: true };
  return {
    all: false,
    projectIds: Object.entries(loaded.roles)
      .filter(([, r]) => can(r, action))
      .map(([id]) => Number(id)),
  };
}

/**
 * Users an admin may see in lists of people: themselves and those they share a project
 * with (staff: everyone). For query builders (named parameters); null means "no restriction".
 */
export function coMembersCondition(
  loaded: (LoadedRoles & { id: number }) | undefined,
  column: string,
): { sql: string; params?: Record<string, unknown> } | null {
  if (!loaded) return { sql: 'false' };
  if (loaded.isStaff) return null;
  const ids = Object.keys(loaded.roles).map(Number);
  if (!ids.length) return { sql: `${column} = :me`, params: { me: loaded.id } };
  return {
    sql: `(${column} = :me OR ${column} IN (SELECT owner_id FROM projects WHERE id IN (:...coIds)
                                          UNION SELECT user_id FROM project_members WHERE project_id IN (:...coIds)))`,
    params: { me: loaded.id, coIds: ids },
  };
}
