import { ValidationError } from 'adminjs';
import { AppError } from '../../domain/errors.ts';
import type { FieldProblem } from '../../domain/alerts/validation.ts';
import { mayAnywhere } from '../auth.ts';
import type { AdminUser } from '../session.ts';
import { inProject } from './common.ts';

/** Form plumbing shared by the alerts resources (alerts.ts, monitors.ts). */
export const values = (list: readonly string[]) => list.map((v) => ({ value: v, label: v }));
export const may = inProject('manage_alerts');
export const mayNew = ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser, 'manage_alerts');
export const noBulkDelete = { isAccessible: false };

/** AdminJS sends arrays as `name.0`, `name.1`, …; empty inputs as ''. */
export function arrayOf(params: Record<string, unknown>, name: string): string[] {
  return Object.entries(params)
    .filter(([k]) => k === name || k.startsWith(`${name}.`))
    .sort(([a], [b]) => Number(a.split('.')[1] ?? 0) - Number(b.split('.')[1] ?? 0))
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .map((v) => String(v ?? '').trim())
    .filter(Boolean);
}
export const present = (v: unknown) => v !== undefined && v !== null && v !== '';
export const int = (v: unknown) => (present(v) ? Number(v) : undefined);
export function json(v: unknown, field: string): unknown {
  if (!present(v)) return {};
  try {
    return JSON.parse(String(v));
  } catch {
    throw new ValidationError({ [field]: { message: 'not valid JSON' } }, { message: `${field}: not valid JSON` });
  }
}

/**
 * A domain 400 as form errors next to the admin's fields (`fields` maps the API's names,
 * such as params.window_minutes or channels.0, to the form's); others become a notice.
 */
export async function asForm<T>(fn: () => Promise<T>, fields: Record<string, string>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const problems = Array.isArray(err.details) ? (err.details as FieldProblem[]) : [];
    const errors: Record<string, { message: string }> = {};
    for (const p of problems) {
      const top = p.path.split('.')[0];
      const field = fields[p.path] ?? fields[top] ?? 'name';
      errors[field] = { message: errors[field] ? `${errors[field].message}; ${p.path}: ${p.message}` : `${p.path}: ${p.message}` };
    }
    if (!problems.length) errors.name = { message: err.message };
    throw new ValidationError(errors, { message: err.message });
  }
}
