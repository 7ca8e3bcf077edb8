import type { DataSource, EntityManager } from 'typeorm';
import { User } from '../../entities/User.ts';
import { conflict, unauthorized } from '../errors.ts';
import { createProject, type CreatedKey } from '../projects/projects.ts';
import type { Project } from '../../entities/Project.ts';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.ts';

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export interface NewUser {
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
  isStaff?: boolean;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

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
        isActive: true,
      });
      await em.save(user);
      const local = email.split('@')[0];
      const created = await createProject(em, { ownerId: user.id, name: `${local}'s project`, slug: local, isPersonal: true });
      return { user, ...created };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('A user with this email already exists', 'email_taken', { email: ['already registered'] });
    throw err;
  }
}

/** Generic failure on purpose: the answer never tells which of email or password was wrong. */
export async function authenticate(ds: DataSource, email: string, password: string): Promise<User> {
  const user = await ds
    .getRepository(User)
    .createQueryBuilder('u')
    .addSelect('u.passwordHash')
    .where('u.email = :email', { email: normalizeEmail(email) })
    .getOne();
  if (!user) {
    await burnPasswordCheck(password);
    throw unauthorized('Invalid email or password', 'invalid_credentials');
  }
  const ok = await verifyPassword(user.passwordHash, password);
  if (!ok || !user.isActive) throw unauthorized('Invalid email or password', 'invalid_credentials');
  await ds.getRepository(User).update(user.id, { lastLogin: new Date() });
  return user;
}

export async function activeUser(ds: DataSource, id: number): Promise<User | null> {
  return ds.getRepository(User).findOneBy({ id, isActive: true });
}

export function serializeUser(u: User) {
  return { id: u.id, email: u.email, first_name: u.firstName, last_name: u.lastName };
}

/** For `npm run createsuperuser`: creates a staff user, or promotes and re-passwords an existing one. */
export async function upsertSuperuser(ds: DataSource, email: string, password: string): Promise<{ user: User; created: boolean }> {
  const existing = await ds.getRepository(User).findOneBy({ email: normalizeEmail(email) });
  if (!existing) {
    const { user } = await registerUser(ds, { email, password, isStaff: true });
    return { user, created: true };
  }
  await ds.getRepository(User).update(existing.id, { isStaff: true, isActive: true, passwordHash: await hashPassword(password) });
  return { user: { ...existing, isStaff: true, isActive: true } as User, created: false };
}
