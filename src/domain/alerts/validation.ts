import type { z } from 'zod';
import { AppError } from '../errors.ts';

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * zod issues as `details`, with each unknown key named as its own path ("params.windw:
 * unknown field"), so a typo in a rule is pointed at, not just its parent object.
 */
export function problemsOf(issues: ReadonlyArray<z.core.$ZodIssue>, prefix: PropertyKey[] = []): FieldProblem[] {
  return issues.flatMap((i) => {
    const at = [...prefix, ...i.path].map(String);
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: [...at, k].join('.'), message: 'unknown field' }));
    return [{ path: at.join('.'), message: i.message }];
  });
}

export const invalid = (problems: FieldProblem[], message = 'Invalid request') => new AppError(400, 'validation_error', message, problems);

/** Parses or throws a 400 `validation_error` naming each bad field. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, prefix: PropertyKey[] = []): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(problemsOf(r.error.issues, prefix));
  return r.data;
}
