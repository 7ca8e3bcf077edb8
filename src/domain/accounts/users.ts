import type { DataSource, EntityManager } from 'typeorm';
import type { Project } from '../../entities/Project.ts';
import { User } from '../../entities/User.ts';
import { badRequest, conflict, notFound, unauthorized } from '../errors.ts';
import { createProject, type CreatedKey } from '../projects/projects.ts';
import { announceAccessChange } from './accessChanges.ts';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.ts';
import { endAllSessions } from './sessions.ts';

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export interface NewUser {
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
  isStaff?: boolean;
  isActive?: boolean;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';
const emailTaken = () => conflict('A user with this email already exists', 'email_taken', { email: ['already registered'] });

/** A user and their personal project (with its first ingest key), in one transaction. */
export async function registerUser(ds: DataSource, input: NewUser): Promise<{ user: User; project: Project } & CreatedKey> {
  const email = normalizeEmail(input.email);
  const passwordHash = await hashPassword(input.password);
  try {
    return await ds.transaction(async (em: EntityManager) => {
      const user = em.create(User, {
        email,
        passwordHash,
        firstName: input.firstName ?? '',
        lastName: input.lastName ?? '',
        isStaff: input.isStaff ?? false,
        isActive: input.isActive ?? true,
        tokenVersion: 0,
      });
      await em.save(user);
      const local = email.split('@')[0];
      const created = await createProject(em, { ownerId: user.id, name: `${local}'s project`, slug: local, isPersonal: true });
      return { user, ...created };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}

async function withHash(ds: DataSource | EntityManager, where: { email: string } | { id: number }): Promise<User | null> {
  const qb = ds.getRepository(User).createQueryBuilder('u').addSelect('u.passwordHash');
  return 'email' in where ? qb.where('u.email = :email', where).getOne() : qb.where('u.id = :id', where).getOne();
}

/**
 * Generic failure on purpose: the answer never tells which of email or password was wrong.
 * The user comes back with the token_version read alongside the checked hash.
 */
export async function authenticate(ds: DataSource, email: string, password: string): Promise<User> {
  const user = await withHash(ds, { email: normalizeEmail(email) });
  if (!user) {
    await burnPasswordCheck(password);
    throw unauthorized('Invalid email or password', 'invalid_credentials');
  }
  const ok = await verifyPassword(user.passwordHash, password);
  if (!ok || !user.isActive) throw unauthorized('Invalid email or password', 'invalid_credentials');
  await ds.getRepository(User).update(user.id, { lastLogin: new Date() });
  return user;
}

export interface UserChanges {
  email?: string;
  password?: string;
  firstName?: string;
  lastName?: string;
  isActive?: boolean;
  isStaff?: boolean;
}

/**
 * Applies changes to a user. A new password or email, or a deactivation or reactivation,
 * ends every session at once: the token_version bump makes every token issued before
 * invalid (access and refresh alike), and the refresh tokens are revoked. Open live-tail
 * connections hear of it (and of a staff change) as soon as the change is committed.
 */
export async function updateUser(ds: DataSource, id: number, changes: UserChanges): Promise<User> {
  const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
  let announce = false;
  try {
    const updated = await ds.transaction(async (em) => {
      // Locked: two changes at once must not both read the same version and bump it once.
      const user = await em.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw notFound('User not found');
      const email = changes.email !== undefined ? normalizeEmail(changes.email) : user.email;
      const endsSessions =
        Boolean(passwordHash) || email !== user.email || (changes.isActive !== undefined && changes.isActive !== user.isActive);
      announce = endsSessions || (changes.isStaff !== undefined && changes.isStaff !== user.isStaff);
      user.email = email;
      if (changes.firstName !== undefined) user.firstName = changes.firstName;
      if (changes.lastName !== undefined) user.lastName = changes.lastName;
      if (changes.isStaff !== undefined) user.isStaff = changes.isStaff;
      if (changes.isActive !== undefined) user.isActive = changes.isActive;
      if (passwordHash) user.passwordHash = passwordHash;
      if (endsSessions) user.tokenVersion += 1;
      await em.save(user);
      if (endsSessions) await endAllSessions(em, id);
      return user;
    });
    if (announce) await announceAccessChange({ users: [id] });
    return updated;
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}

/** Whether a profile change needs the current password: a new password, or a new email (the login). */
export function needsCurrentPassword(user: User, changes: { password?: string; email?: string }): boolean {
  return changes.password !== undefined || (changes.email !== undefined && normalizeEmail(changes.email) !== user.email);
}

/** Profile password or email change: the current password must be given and right. */
export async function checkCurrentPassword(ds: DataSource, id: number, current: string | undefined): Promise<void> {
  const user = await withHash(ds, { id });
  if (!current || !user || !(await verifyPassword(user.passwordHash, current))) {
    throw badRequest('The current password is wrong', { current_password: ['wrong or missing'] }, 'invalid_current_password');
  }
}

/** Deletes a user and, as the seeds' Django models do (on_delete=CASCADE), the projects they own. */
export async function deleteUser(ds: DataSource, id: number): Promise<void> {
  const owned: Array<{ id: number }> = await ds.query(`SELECT id FROM projects WHERE owner_id = $1`, [id]);
  const result = await ds.getRepository(User).delete({ id });
  if (!result.affected) throw notFound('User not found');
  await announceAccessChange({ users: [id], projects: owned.map((p) => p.id) });
}

export function serializeUser(u: User) {
  return { id: u.id, email: u.email, first_name: u.firstName, last_name: u.lastName };
}

export function serializeUserDetail(u: User) {
  return {
    ...serializeUser(u),
    is_active: u.isActive,
    is_staff: u.isStaff,
    last_login: u.lastLogin?.toISOString() ?? null,
    date_joined: u.createdAt.toISOString(),
  };
}

/** For `npm run createsuperuser`: creates a staff user, or promotes and re-passwords an existing one. */
export async function upsertSuperuser(ds: DataSource, email: string, password: string): Promise<{ user: User; created: boolean }> {
  const existing = await ds.getRepository(User).findOneBy({ email: normalizeEmail(email) });
  if (!existing) {
    const { user } = await registerUser(ds, { email, password, isStaff: true });
    return { user, created: true };
  }
  const user = await updateUser(ds, existing.id, { isStaff: true, isActive: true, password });
  return { user, created: false };
}
