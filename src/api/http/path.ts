/** A request URL's path and query, the path without its trailing slash (routes match with or without it). */
export function splitUrl(url: string | undefined): { path: string; query: string } {
  const raw = url ?? '';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  return { path: path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path, query: q === -1 ? '' : raw.slice(q + 1) };
}
