import { describe, expect, it } from 'vitest'
import { makeApp } from './helpers.ts'

// The dashboard as the server serves it: the HTML shell and the bundle built from source.

describe('GET /dashboard', () => {
  it('serves the HTML shell with a strict CSP, with or without the trailing slash', async () => {
    const t = await makeApp()
    for (const path of ['/dashboard', '/dashboard/']) {
      const res = await t.cuekit.app.request(path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toContain('text/html')
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("connect-src 'self'")
      expect(csp).not.toContain('unsafe-inline')
      expect(res.headers.get('referrer-policy')).toBe('no-referrer')
      expect(res.headers.get('x-request-id')).toBeTruthy()
      const html = await res.text()
      expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>')
      expect(html).toContain('<link rel="stylesheet" href="/dashboard/app.css">')
      expect(html).not.toMatch(/<script>|style=/)
    }
  })

  it('bundles the client from source on first request: small, no zod, revalidated by ETag', async () => {
    const t = await makeApp()
    const js = await t.cuekit.app.request('/dashboard/app.js')
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toContain('text/javascript')
    const body = await js.text()
    expect(body.length).toBeGreaterThan(5_000)
    expect(body.length, 'the bundle stays small').toBeLessThan(80_000)
    expect(body).not.toMatch(/ZodError|\$ZodType/)
    const etag = js.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await t.cuekit.app.request('/dashboard/app.js', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)

    const css = await t.cuekit.app.request('/dashboard/app.css')
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toContain('text/css')
    expect(await css.text()).toContain('@media(prefers-color-scheme:dark)')
    expect((await t.cuekit.app.request('/dashboard/nope.js')).status).toBe(404)
  })
})
