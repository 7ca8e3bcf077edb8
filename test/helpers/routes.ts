import type { Express } from 'express';
import type { Web } from '../../src/api/index.ts';

export interface RouteEntry {
  method: string;
  /** Normalized: parameters as `{}`, no trailing slash — comparable across Express, the ingest table and OpenAPI. */
  path: string;
}

/** `/api/projects/:id/events/` and `/api/projects/{id}/events` are the same route. */
export const normalizePath = (p: string): string =>
  p
    .replace(/:[A-Za-z_]+/g, '{}')
    .replace(/\{[^}]+\}/g, '{}')
    .replace(/\/+$/, '') || '/';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
}

/** Every route Express serves, read from its router (Express 5 / router 2: `rawPath` is the mount path). */
export function expressRoutes(app: Express): RouteEntry[] {
  const out: RouteEntry[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of [layer.route.path].flat()) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on && method !== '_all') out.push({ method, path: normalizePath(prefix + path) });
          }
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

/** Express's routes plus the lean ingest table's: everything the web process answers (the admin aside). */
export function allRoutes(web: Pick<Web, 'app' | 'ingest'>): RouteEntry[] {
  const ingest = web.ingest.flatMap((r) => r.methods.map((m) => ({ method: m.toLowerCase(), path: normalizePath(r.name) })));
  const seen = new Set<string>();
  return [...expressRoutes(web.app), ...ingest].filter((r) => {
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The operations an OpenAPI document lists, normalized the same way. */
export function openApiRoutes(doc: { paths: Record<string, Record<string, unknown>> }): RouteEntry[] {
  const methods = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => methods.has(m))
      .map((method) => ({ method, path: normalizePath(path) })),
  );
}
