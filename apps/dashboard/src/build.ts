import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Plugin } from 'esbuild'

export interface Asset {
  body: string
  contentType: string
  etag: string
}

export interface DashboardAssets {
  'app.js': Asset
  'app.css': Asset
}

const clientDir = fileURLToPath(new URL('../client/', import.meta.url))

/**
 * The client may take only types from @cuekit/protocol: a value import would drag zod and every
 * schema into the bundle (esbuild cannot drop zod's top-level schema construction). Its subpaths
 * are separate modules: `@cuekit/protocol/sse` (the event-stream parser) imports nothing.
 */
const typesOnlyProtocol: Plugin = {
  name: 'types-only-protocol',
  setup(b) {
    b.onResolve({ filter: /^@cuekit\/protocol$/ }, (args) => ({
      errors: [
        {
          text: `${args.importer} imports a value from @cuekit/protocol; the dashboard imports its types only (import type)`,
        },
      ],
    }))
  },
}

const asset = (body: string, contentType: string): Asset => ({
  body,
  contentType,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
})

/**
 * Bundles the client from its TypeScript sources in memory. The server does this once, on the
 * first request for an asset, so a clean clone serves the dashboard after `npm ci` alone: no
 * build step to forget, no build output in git, and no reliance on install scripts running.
 */
export async function buildDashboard(): Promise<DashboardAssets> {
  // Loaded on the first dashboard request only: a server nobody opens the dashboard on never pays for it.
  const { build } = await import('esbuild')
  const result = await build({
    entryPoints: { app: `${clientDir}main.ts` },
    bundle: true,
    write: false,
    outdir: '/dashboard',
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    // Workspace packages from their TypeScript sources, as everywhere in the monorepo.
    conditions: ['cuekit-source'],
    plugins: [typesOnlyProtocol],
  })
  let js: string | undefined
  let css: string | undefined
  for (const file of result.outputFiles) {
    if (file.path.endsWith('.js')) js = file.text
    if (file.path.endsWith('.css')) css = file.text
  }
  if (js === undefined || css === undefined) throw new Error('dashboard bundle is missing app.js or app.css')
  return {
    'app.js': asset(js, 'text/javascript; charset=utf-8'),
    'app.css': asset(css, 'text/css; charset=utf-8'),
  }
}
