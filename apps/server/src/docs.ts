import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { DASHBOARD_PATH } from '@cuekit/dashboard'
import { ROUTES } from '@cuekit/protocol'
import { Hono } from 'hono'
import { accepts } from 'hono/accepts'
import { compress } from 'hono/compress'
import { etag } from 'hono/etag'

/** Where the API docs page lives; its assets are served under it, from this server only. */
export const DOCS_PATH = '/docs'
export const OPENAPI_PATH = '/openapi.json'
const ASSETS_PATH = `${DOCS_PATH}/assets`

/**
 * The page loads Swagger UI from the `swagger-ui-dist` package (its version pinned by
 * package-lock.json) and from nowhere else, so the docs work on a machine without internet.
 * The initialiser is a file of ours rather than inline script, so the CSP needs no 'unsafe-inline'
 * for scripts.
 */
const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Cuekit API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<noscript>The API docs need JavaScript; the OpenAPI document is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</noscript>
<div id="swagger-ui"></div>
<script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_PATH}/init.js"></script>
</body>
</html>
`

// validatorUrl: null keeps Swagger UI from sending the document to its public validator.
const INIT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_PATH)},
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
})
`

/**
 * The docs page's own policy, next to (not shared with) the dashboard's: the same lock-down, plus
 * data: fonts for Swagger UI's stylesheet. Swagger UI sets styles through the DOM, which a CSP
 * without 'unsafe-inline' allows; the browser test fails on any violation.
 */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': DOCS_CSP,
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
}

interface Asset {
  body: Uint8Array<ArrayBuffer> | string
  contentType: string
}

const JS = 'text/javascript; charset=utf-8'

/** The files of swagger-ui-dist the page uses; nothing else in that folder is reachable. */
const PACKAGE_FILES: Record<string, string> = {
  'swagger-ui-bundle.js': JS,
  'swagger-ui.css': 'text/css; charset=utf-8',
}

async function readAssets(): Promise<Map<string, Asset>> {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  const files = new Map<string, Asset>([['init.js', { body: INIT, contentType: JS }]])
  for (const [name, contentType] of Object.entries(PACKAGE_FILES)) {
    files.set(name, { body: new Uint8Array(await readFile(join(dir, name))), contentType })
  }
  return files
}

/**
 * `GET /docs` (Swagger UI over /openapi.json) with its assets under /docs/assets/, and `GET /`: a
 * browser is sent to the dashboard; an API client learns where the dashboard and the docs are.
 * Mount the result at `/`.
 */
export function apiDocs(): Hono {
  const app = new Hono()
  // Read on the first request for an asset, then kept: about 2 MB, only if someone opens the docs.
  let assets: Promise<Map<string, Asset>> | undefined
  app.use(`${DOCS_PATH}/*`, async (c, next) => {
    await next()
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value)
    // Revalidated on every load (a 304 is cheap), so an upgraded server never serves stale assets.
    c.res.headers.set('Cache-Control', 'no-cache')
  })
  app.on('GET', [DOCS_PATH, `${DOCS_PATH}/`], (c) => c.html(HTML))
  // The bundle is 1.7 MB; gzip makes it about a quarter of that for a browser.
  app.get(`${ASSETS_PATH}/:name`, compress(), etag(), async (c) => {
    assets ??= readAssets()
    const file = (await assets).get(c.req.param('name'))
    if (!file) return c.notFound()
    return c.body(file.body, 200, { 'Content-Type': file.contentType })
  })

  app.get('/', (c) => {
    c.header('Vary', 'Accept')
    const wanted = accepts(c, {
      header: 'Accept',
      supports: ['application/json', 'text/html'],
      default: 'application/json',
    })
    if (wanted === 'text/html') return c.redirect(DASHBOARD_PATH, 302)
    return c.json({
      name: 'cuekit',
      dashboard: DASHBOARD_PATH,
      docs: DOCS_PATH,
      openapi: OPENAPI_PATH,
      health: ROUTES.health.path,
      ready: ROUTES.ready.path,
    })
  })
  return app
}
