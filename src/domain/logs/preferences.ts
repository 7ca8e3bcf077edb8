import type { DataSource, EntityManager } from 'typeorm';
import { UserFilterPreference } from '../../entities/UserFilterPreference.ts';
import { conflict, notFound } from '../errors.ts';

/**
 * The logs dashboard's saved log filters. Private: every call is scoped to the owner, so another
 * user's id is simply not found (404), never forbidden (which would confirm it exists).
 */
export interface PreferenceInput {
  name?: string;
  filters?: Record<string, unknown>;
  is_default?: boolean;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

async function save(em: EntityManager, pref: UserFilterPreference, input: PreferenceInput): Promise<UserFilterPreference> {
  if (input.name !== undefined) pref.name = input.name;
  if (input.filters !== undefined) pref.filters = input.filters;
  if (input.is_default !== undefined) pref.isDefault = input.is_default;
  // One default per user: choosing a new one clears the old.
  if (pref.isDefault) {
    await em.query(
      `UPDATE user_filter_preferences SET is_default = false, updated_at = now() WHERE user_id = $1 AND is_default AND id IS DISTINCT FROM $2`,
      [pref.userId, pref.id ?? null],
    );
  }
  return em.save(pref);
}

async function inTransaction<T>(ds: DataSource, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await ds.transaction(fn);
  } catch (err) {
    if (isUniqueViolation(err) && (err as { constraint?: string }).constraint === 'uq_user_filter_preferences_user_name') {
      throw conflict('You already have a saved filter with this name', 'name_taken', { name: ['already used'] });
    }
    // Two requests choosing a default at once: the loser may simply retry.
    if (isUniqueViolation(err)) throw conflict('Another default was chosen at the same time; retry', 'conflict');
    throw err;
  }
}

export async function listPreferences(ds: DataSource, userId: number, page: { offset: number; limit: number }) {
  const [rows, count] = await ds.getRepository(UserFilterPreference).findAndCount({
    where: { userId },
    order: { isDefault: 'DESC', name: 'ASC', id: 'ASC' },
    skip: page.offset,
    take: page.limit,
  });
  return { rows, count };
}

export async function getPreference(ds: DataSource, userId: number, id: number): Promise<UserFilterPreference> {
  const pref = Number.isSafeInteger(id) ? await ds.getRepository(UserFilterPreference).findOneBy({ id, userId }) : null;
  if (!pref) throw notFound('Filter preference not found');
  return pref;
}

export function createPreference(ds: DataSource, userId: number, input: Required<Pick<PreferenceInput, 'name'>> & PreferenceInput) {
  return inTransaction(ds, (em) =>
    save(em, em.create(UserFilterPreference, { userId, name: input.name, filters: {}, isDefault: false }), input),
  );
}

export function updatePreference(ds: DataSource, userId: number, id: number, input: PreferenceInput) {
  return inTransaction(ds, async (em) => {
    const pref = await em.getRepository(UserFilterPreference).findOne({ where: { id, userId }, lock: { mode: 'pessimistic_write' } });
    if (!pref) throw notFound('Filter preference not found');
    return save(em, pref, input);
  });
}

export async function deletePreference(ds: DataSource, userId: number, id: number): Promise<void> {
  const result = await ds.getRepository(UserFilterPreference).delete({ id, userId });
  if (!result.affected) throw notFound('Filter preference not found');
}

export function serializePreference(p: UserFilterPreference) {
  return {
    id: p.id,
    user: p.userId,
    name: p.name,
    filters: p.filters,
    is_default: p.isDefault,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}
