import { Router } from 'express';

/**
 * /admin until the AdminJS back-office lands. Mounted before any body parser, where
 * AdminJS must go too (its POSTs hang on Express 5 otherwise).
 */
export function adminPlaceholder(): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faultline admin</title>
<style>body{font-family:system-ui,sans-serif;margin:3rem;color:#4a1030;background:#fff5f9}h1{color:#d6336c}</style></head>
<body><h1>Faultline</h1><p>The admin back-office is not installed yet.</p>
<p>Meanwhile: the API is documented at <a href="/api/docs/">/api/docs/</a>.</p></body></html>`);
  });
  return r;
}
