import type { Caller } from '../../../domain/access/index.ts';
import type { Uploader } from '../../../domain/dumps/ingest.ts';
import { badRequest } from '../../../domain/errors.ts';
import { UploadFields, UploadQuery } from './schema.ts';

/** `?project=` and the `project` form field; sending both with different values is a mistake. */
export function requestedProject(url: string | undefined, fields: ReadonlyMap<string, string>): number | undefined {
  const q = url?.indexOf('?') ?? -1;
  const query = q === -1 ? {} : Object.fromEntries(new URLSearchParams(url!.slice(q + 1)));
  const fromQuery = UploadQuery.parse(query).project;
  const fromForm = UploadFields.shape.project.parse(fields.get('project') || undefined);
  if (fromQuery !== undefined && fromForm !== undefined && fromQuery !== fromForm) {
    throw badRequest('?project= and the project field disagree', { project: ['send one project'] }, 'project_conflict');
  }
  return fromQuery ?? fromForm;
}

/** Who a stored dump records as its uploader. */
export function asUploader(caller: Caller): Uploader {
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
