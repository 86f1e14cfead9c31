import { describe, expect, it } from 'vitest'
import { makeApp } from './helpers.ts'

// The API docs are served by the server itself (no CDN), and `/` tells each kind of client where
// to go.

const TYPES: Record<string, RegExp> = {
  js: /^text\/javascript/,
  css: /^text\/css/,
}

/** Every URL the HTML makes the browser load or link to. */
const referencedUrls = (html: string) => [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!)

describe('GET /docs', () => {
  it('references only assets of this server, each answering 200 with its content type', async () => {
    const t = await makeApp()
    const res = await t.cuekit.app.request('/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html, 'no absolute URL of any host').not.toMatch(/(?:https?:)?\/\/[a-z0-9]/i)
    const urls = referencedUrls(html)
    const assets = urls.filter((u) => !u.startsWith('data:'))
    expect(assets.length, 'a stylesheet and two scripts at least').toBeGreaterThanOrEqual(3)
    for (const url of urls) {
      // Same-origin paths only ("//host/..." is another host).
      expect(url, url).toMatch(/^(\/(?!\/)|data:)/)
    }
    for (const url of assets.filter((u) => u !== '/openapi.json')) {
      const asset = await t.cuekit.app.request(url)
      expect(asset.status, url).toBe(200)
      const ext = url.split('.').pop()!
      expect(TYPES[ext], `a known asset type: ${url}`).toBeDefined()
      expect(asset.headers.get('content-type'), url).toMatch(TYPES[ext]!)
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff')
      const body = await asset.text()
      expect(body.length, url).toBeGreaterThan(50)
      // Stylesheets may embed images only as data: URLs, never fetch them from a host.
      if (ext === 'css') {
        for (const [, ref] of body.matchAll(/url\(\s*["']?([^"')]*)/g)) expect(ref, url).toMatch(/^data:/)
      }
    }
    // The initialiser points Swagger UI at our document and switches off its public validator.
    const init = await (await t.cuekit.app.request('/docs/assets/init.js')).text()
    expect(init).toContain('"/openapi.json"')
    expect(init).toContain('validatorUrl: null')
    expect(init).not.toMatch(/https?:/)
  })

  it('has its own CSP (no inline script, nothing from another host); the dashboard keeps its stricter one', async () => {
    const t = await makeApp()
    const csp = (await t.cuekit.app.request('/docs')).headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toMatch(/script-src 'self';/)
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-')
    expect(csp).not.toMatch(/https?:|\*/)
    const dashboardCsp = (await t.cuekit.app.request('/dashboard')).headers.get('content-security-policy')
    expect(dashboardCsp).not.toContain('unsafe-inline')
  })

  it('serves the bundle gzipped to browsers, revalidated by ETag; other names are 404', async () => {
    const t = await makeApp()
    const url = '/docs/assets/swagger-ui-bundle.js'
    const plain = await t.cuekit.app.request(url)
    const size = (await plain.arrayBuffer()).byteLength
    const zipped = await t.cuekit.app.request(url, { headers: { 'accept-encoding': 'gzip' } })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    expect((await zipped.arrayBuffer()).byteLength).toBeLessThan(size / 2)
    const etag = plain.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]+"$/)
    expect((await t.cuekit.app.request(url, { headers: { 'if-none-match': etag } })).status).toBe(304)
    for (const name of ['index.html', 'package.json', '..%2F..%2Fpackage.json', 'swagger-ui.js']) {
      const res = await t.json('GET', `/docs/assets/${name}`)
      expect(res.status, name).toBe(404)
      expect(res.body.error.code).toBe('not_found')
    }
  })
})

describe('GET /', () => {
  it('sends a browser to the dashboard', async () => {
    const t = await makeApp()
    const res = await t.cuekit.app.request('/', {
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/dashboard')
    expect(res.headers.get('vary')).toContain('Accept')
  })

  it('tells an API client (or curl) where the dashboard, the docs and the OpenAPI document are', async () => {
    const t = await makeApp()
    for (const accept of ['application/json', '*/*', undefined]) {
      const res = await t.cuekit.app.request('/', accept ? { headers: { accept } } : {})
      expect(res.status, String(accept)).toBe(200)
      const body = (await res.json()) as { dashboard: string; docs: string; openapi: string }
      expect(body).toMatchObject({ dashboard: '/dashboard', docs: '/docs', openapi: '/openapi.json' })
      for (const path of [body.dashboard, body.docs, body.openapi]) {
        expect((await t.cuekit.app.request(path)).status, path).toBe(200)
      }
    }
  })
})
