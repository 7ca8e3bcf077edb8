import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import type { DataSource } from 'typeorm';
import { config } from '../../../config.ts';
import { tokenType, verifyMachineToken } from '../../../domain/accounts/tokens.ts';
import type { ApiKeyResolver } from '../../../domain/apiKeys.ts';
import type { Uploader } from '../../../domain/dumps/ingest.ts';
import { badRequest, forbidden, unauthorized } from '../../../domain/errors.ts';
import { authorize, personalProjectId } from '../../../domain/projects/access.ts';
import type { User } from '../../../entities/User.ts';
import { bearerToken, userFromRequest } from '../../middleware/auth.ts';
import { UploadFields, UploadQuery } from './schema.ts';

/** Who is uploading, from the Authorization header alone — decided before a byte of the body is read. */
export type UploadCaller =
  | { kind: 'user'; user: User }
  | { kind: 'machine'; projectId: number; keyId: number | null }
  | { kind: 'api_key'; projectId: number; keyId: number }
  | { kind: 'anonymous' };

/** A machine token lives as long as the key it was traded for: revoked, or stripped of dumps:upload, it stops. */
async function machineKeyActive(ds: DataSource, keyId: number, projectId: number): Promise<boolean> {
  const rows = await ds.query(
    `SELECT 1 FROM api_keys WHERE id = $1 AND project_id = $2 AND revoked_at IS NULL AND 'dumps:upload' = ANY(scopes)`,
    [keyId, projectId],
  );
  return rows.length > 0;
}

export async function uploadCaller(ds: DataSource, keys: ApiKeyResolver, req: Pick<IncomingMessage, 'headers'>): Promise<UploadCaller> {
  if (!req.headers.authorization) return { kind: 'anonymous' };
  const token = bearerToken(req.headers.authorization);
  if (!token) throw unauthorized('Send "Authorization: Bearer <token or API key>"', 'authentication_required');
  if (!token.includes('.')) {
    // Not a JWT: an API key (the C++ uploader's client secret works directly, too).
    const key = await keys.resolve(token);
    if (!key) throw unauthorized('Invalid API key', 'invalid_api_key');
    if (!key.scopes.includes('dumps:upload')) throw forbidden('This key lacks the dumps:upload scope', 'scope_missing');
    return { kind: 'api_key', projectId: key.projectId, keyId: key.id };
  }
  if ((await tokenType(token)) === 'machine') {
    const m = await verifyMachineToken(token);
    const active =
      m.keyId === null ? config.machineClient?.projectId === m.projectId : await machineKeyActive(ds, m.keyId, m.projectId);
    if (!active) throw unauthorized('The client secret this token was issued for is no longer valid', 'token_revoked');
    return { kind: 'machine', ...m };
  }
  // A user access token (refresh tokens and garbage are refused here with 401).
  return { kind: 'user', user: await userFromRequest(ds, req) };
}

/** `?project=` and the `project` form field; sending both with different values is a mistake. */
export function requestedProject(req: Pick<Request, 'query'>, fields: ReadonlyMap<string, string>): number | undefined {
  const fromQuery = UploadQuery.parse(req.query).project;
  const fromForm = UploadFields.shape.project.parse(fields.get('project') || undefined);
  if (fromQuery !== undefined && fromForm !== undefined && fromQuery !== fromForm) {
    throw badRequest('?project= and the project field disagree', { project: ['send one project'] }, 'project_conflict');
  }
  return fromQuery ?? fromForm;
}

/**
 * The project an upload goes to, authorized. Machine tokens and API keys are bound to
 * theirs; users need the member role (edit_data) in the named project or default to
 * their personal one; anonymous uploads must name a project that allows them — any
 * other case is the same 401, so probing reveals nothing about which projects exist.
 */
export async function targetProject(ds: DataSource, caller: UploadCaller, requested: number | undefined): Promise<number> {
  switch (caller.kind) {
    case 'machine':
    case 'api_key':
      if (requested !== undefined && requested !== caller.projectId) throw forbidden('This credential uploads to another project', 'wrong_project');
      return caller.projectId;
    case 'user': {
      const id = requested ?? (await personalProjectId(ds, caller.user.id));
      await authorize(ds, caller.user, id, 'edit_data');
      return id;
    }
    case 'anonymous': {
      const rows: Array<{ allowed: boolean }> = requested
        ? await ds.query(`SELECT (settings->'allowAnonymousDumps') = 'true'::jsonb AS allowed FROM projects WHERE id = $1`, [requested])
        : [];
      if (!rows[0]?.allowed) {
        throw unauthorized(
          'Authentication required',
          'authentication_required',
          'Send a machine token, an API key with dumps:upload or a user token; anonymous uploads need a project that allows them, named by ?project= or a project field before the file',
        );
      }
      return requested!;
    }
  }
}

/** Whether an anonymous upload could name a project that takes it (in a form field, after the headers). */
export async function anonymousUploadsPossible(ds: DataSource): Promise<boolean> {
  const rows = await ds.query(`SELECT 1 FROM projects WHERE (settings->'allowAnonymousDumps') = 'true'::jsonb LIMIT 1`);
  return rows.length > 0;
}

export function asUploader(caller: UploadCaller): Uploader {
  switch (caller.kind) {
    case 'user':
      return { kind: 'user', userId: caller.user.id };
    case 'machine':
    case 'api_key':
      return { kind: caller.kind, keyId: caller.keyId };
    case 'anonymous':
      return { kind: 'anonymous' };
  }
}
