import { randomBytes } from 'node:crypto';
import type supertest from 'supertest';
import type { DataSource } from 'typeorm';
import { startSession } from '../../src/domain/accounts/sessions.ts';
import { registerUser } from '../../src/domain/accounts/users.ts';
import { createProject } from '../../src/domain/projects/projects.ts';
import type { Project } from '../../src/entities/Project.ts';
import type { User } from '../../src/entities/User.ts';

export const uniqueEmail = (tag = 'user') => `${tag}-${randomBytes(5).toString('hex')}@example.com`;
export const PASSWORD = 'correct horse battery staple';

export interface TestUser {
  user: User;
  personal: Project;
  apiKey: string;
  access: string;
  refresh: string;
}

/** A registered user with their personal project, its ingest key, and a token pair. */
export async function createUser(ds: DataSource, opts: { email?: string; isStaff?: boolean } = {}): Promise<TestUser> {
  const { user, project, secret } = await registerUser(ds, {
    email: opts.email ?? uniqueEmail(),
    password: PASSWORD,
    isStaff: opts.isStaff,
  });
  return { user, personal: project, apiKey: secret, ...(await startSession(ds, user)) };
}

export async function createProjectWithKey(ds: DataSource, owner: User, name = 'Project') {
  return ds.transaction((em) => createProject(em, { ownerId: owner.id, name }));
}

export function pantiesEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_type: 'exception',
    exception_type: 'ValueError',
    message: 'Something went wrong',
    stacktrace: 'Traceback (most recent call last):\n  File "app.py", line 1, in <module>\nValueError: Something went wrong',
    level: 'error',
    environment: 'production',
    service_name: 'my-app',
    timestamp: 1234567890,
    tags: { severity: 'high' },
    extra: { user_id: '123' },
    ...overrides,
  };
}

type Http = ReturnType<typeof supertest>;

/**
 * Adds `invitee` to a project the way people join: a manager invites their email
 * (POST …/members/), they accept (POST /api/invitations/{id}/accept/). Answers the membership.
 */
export async function inviteAndAccept(
  http: Http,
  projectId: number,
  managerAccess: string,
  invitee: TestUser,
  role: 'admin' | 'member' | 'viewer',
) {
  const invited = await http
    .post(`/api/projects/${projectId}/members/`)
    .set('Authorization', `Bearer ${managerAccess}`)
    .send({ email: invitee.user.email, role });
  if (invited.status !== 201) throw new Error(`invite failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  const accepted = await http.post(`/api/invitations/${invited.body.id}/accept/`).set('Authorization', `Bearer ${invitee.access}`);
  if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return accepted.body.member as { id: number; role: string; user: { id: number } };
}
