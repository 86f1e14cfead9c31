import { type Context, Hono } from 'hono'
import { type Asset, buildDashboard, type DashboardAssets } from './build.ts'

export { buildDashboard, type DashboardAssets } from './build.ts'

/** Where the server mounts the dashboard; asset URLs in the page are absolute under it. */
export const DASHBOARD_PATH = '/dashboard'

/**
 * The page is a shell: everything is rendered by app.js, so the HTML never carries tenant data or
 * the API key, and the CSP can forbid inline script and style entirely.
 */
const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Cuekit dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DASHBOARD_PATH}/app.css">
<script type="module" src="${DASHBOARD_PATH}/app.js"></script>
</head>
<body>
<noscript>The Cuekit dashboard needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
}

let assets: Promise<DashboardAssets> | null = null

/** Built once per process; a failed build is retried on the next request instead of cached. */
function loadAssets(): Promise<DashboardAssets> {
  if (!assets) {
    assets = buildDashboard()
    assets.catch(() => {
      assets = null
    })
  }
  return assets
}

/**
 * The dashboard's routes under DASHBOARD_PATH (mount the result at `/`): the HTML shell, with or
 * without a trailing slash, app.js and app.css.
 */
export function dashboard(): Hono {
  const app = new Hono()
  const page = (c: Context) =>
    c.body(HTML, 200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache',
    })
  app.get(DASHBOARD_PATH, page)
  app.get(`${DASHBOARD_PATH}/`, page)
  for (const name of ['app.js', 'app.css'] as const) {
    app.get(`${DASHBOARD_PATH}/${name}`, async (c) => {
      const file: Asset = (await loadAssets())[name]
      const headers = {
        ...SECURITY_HEADERS,
        'Content-Type': file.contentType,
        ETag: file.etag,
        // Revalidated on every load (a 304 is cheap), so a restarted server never serves a stale client.
        'Cache-Control': 'no-cache',
      }
      if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers)
      return c.body(file.body, 200, headers)
    })
  }
  return app
}
