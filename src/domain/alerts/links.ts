import { config } from '../../config.ts';

/**
 * Every message links into the admin. PUBLIC_URL is the origin people open; without it
 * links point at this server's own port on localhost (fine for a laptop, wrong anywhere
 * else — the README says to set PUBLIC_URL).
 */
export function adminUrl(path: string, query: Record<string, string | number | undefined> = {}): string {
  const base = (config.http.publicUrl ?? `http://localhost:${config.http.port}`).replace(/\/+$/, '');
  const q = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${base}/admin${path}${q ? `?${q}` : ''}`;
}

export const links = {
  issue: (id: string | number) => adminUrl(`/resources/Issue/records/${id}/show`),
  event: (id: string | number) => adminUrl(`/resources/Event/records/${id}/show`),
  logSearch: (projectId: number, filters: Record<string, string | undefined>) =>
    adminUrl('/resources/Event', {
      'filters.projectId': projectId,
      ...Object.fromEntries(Object.entries(filters).map(([k, v]) => [`filters.${k}`, v])),
    }),
  llmLogs: (projectId: number, model?: string) => adminUrl('/resources/LlmLog', { 'filters.projectId': projectId, 'filters.model': model }),
  dump: (id: string) => adminUrl(`/resources/CrashDump/records/${id}/show`),
  monitor: (id: number) => adminUrl(`/resources/Monitor/records/${id}/show`),
  firing: (id: string) => adminUrl(`/resources/AlertFiring/records/${id}/show`),
  channel: (id: number) => adminUrl(`/resources/AlertChannel/records/${id}/show`),
};
