import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import { buildOpenApiDocument } from '../../openapi.ts';

const require = createRequire(import.meta.url);
const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Faultline API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" href="/api/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/api/docs/faultline-init.js"></script>
</body>
</html>`;

const init = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});`;

/** /api/openapi.json, generated from the routes' zod schemas, and Swagger UI at /api/docs/. */
export function docsRoutes(publicUrl?: string): Router {
  const r = Router();
  let doc: string | undefined;
  r.get('/api/openapi.json', (_req, res) => {
    doc ??= JSON.stringify(buildOpenApiDocument(publicUrl));
    res.type('application/json').send(doc);
  });
  r.get('/api/docs', (_req, res) => {
    res.type('html').send(page);
  });
  r.get('/api/docs/faultline-init.js', (_req, res) => {
    res.type('application/javascript').send(init);
  });
  r.use('/api/docs', express.static(swaggerDir, { index: false, maxAge: '1d' }));
  return r;
}
